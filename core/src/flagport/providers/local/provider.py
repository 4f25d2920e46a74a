"""``local``: gates, experiments and configs from a flags file, evaluated in process.

The definitions live in one immutable :class:`~flagport.providers.local.compiled.Snapshot`
held in a single attribute. Every evaluation reads that attribute once, and a reload
replaces it with one assignment, so an evaluation sees either the old version or the
new one, never a mixture. A bad edit is logged with its file, path and line, and the
last good snapshot keeps serving.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import threading
import time
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

from pydantic import Field, model_validator

from flagport._changes import changed_names
from flagport._wording import with_article
from flagport.errors import ConfigurationError, FlagNotFoundError, ProviderNotReadyError
from flagport.provider import FlagNames, Provider, ProviderStatus
from flagport.providers.local.compiled import CompiledExperiment, Snapshot
from flagport.providers.local.loader import build, paused_gc
from flagport.providers.local.models import HashMode
from flagport.providers.local.parsing import file_format, parse_bytes, parse_file
from flagport.providers.local.url_options import UrlOptions, url_format
from flagport.providers.local.watcher import FileWatcher, file_signature
from flagport.settings_files import PathOption

if TYPE_CHECKING:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

    from flagport.providers.local.url_source import Incoming, UrlSource
    from flagport.results import ConfigResult, ExperimentResult, GateResult, JsonValue
    from flagport.sticky.engine import Stickiness
    from flagport.sticky.policy import StickyPolicy
    from flagport.user import User

__all__ = ["LocalOptions", "LocalProvider"]

logger = logging.getLogger("flagport.providers.local")

_EMPTY = Snapshot()
_KINDS = {"gates": "gate", "experiments": "experiment", "configs": "config"}
_ERROR_PROBLEMS = 10  # kept in last_error; the log and `flagport validate` have all


def _error_text(exc: Exception, source: str) -> str:
    """What ``stats()`` keeps of a failed load: located, bounded, no raw exception text.

    A :class:`ConfigurationError` already names the file, line and path of each
    problem; the first ten are kept. Anything else is a bug in flagport; its message
    may quote the file's values, so only its type is kept (the traceback is logged at
    DEBUG).
    """
    if not isinstance(exc, ConfigurationError):
        return (
            f"{source}: internal error while loading the flags file ({type(exc).__name__}); "
            "please report it with the traceback logged at DEBUG level"
        )
    more = len(exc.problems) - _ERROR_PROBLEMS
    if more <= 0:
        return str(exc)
    kept = ConfigurationError(exc.summary, exc.problems[:_ERROR_PROBLEMS])
    return f"{kept}\n  ... and {more} more (flagport validate lists all)"


class LocalOptions(UrlOptions):
    """Options of the ``local`` provider (the URL source's are in :class:`UrlOptions`)."""

    path: Annotated[str | None, PathOption()] = Field(
        default=None, description="The flags file (.yaml, .yml, .json or .toml)."
    )
    flags: dict[str, Any] | None = Field(
        default=None,
        description=(
            "Inline definitions in the flags file format; with path, their entries "
            "replace the file's entries of the same name."
        ),
    )
    hash: HashMode = Field(
        default="statsig", description="Bucketing algorithm for files that do not name one."
    )
    watch: bool = Field(default=True, description="Reload the file when it changes.")
    reload_interval: float = Field(
        default=0.5,
        gt=0,
        le=60,
        description="Seconds between file checks when file-system events are missed.",
    )
    reload_settle: float = Field(
        default=0.5,
        ge=0,
        le=60,
        description=(
            "Seconds a changed file must stay unchanged before it is reloaded, so a "
            "file still being written is not served half-written (0: reload at once). "
            "Writing a new file and renaming it over the old one is the safe way."
        ),
    )

    @model_validator(mode="after")
    def _needs_definitions(self) -> LocalOptions:
        if self.path is not None and self.url is not None:
            raise ValueError(
                "give the local provider path= (a file) or url= (polled over HTTP), not both"
            )
        if self.path is None and self.url is None and self.flags is None:
            raise ValueError(
                "the local provider needs definitions: give path='flags.yaml' (a flags "
                "file), url='https://.../flags.yaml' or flags={...} (inline), e.g. "
                "FLAGPORT_LOCAL_PATH=flags.yaml"
            )
        if self.path is not None:
            file_format(Path(self.path))
        if self.url is not None:
            url_format(self.url)
        return self


def _merge(base: Any, inline: dict[str, Any]) -> Any:
    if not isinstance(base, dict):
        return base
    merged = dict(base)
    for key, value in inline.items():
        if key in ("segments", *_KINDS) and isinstance(value, dict):
            section = merged.get(key)
            merged[key] = {**(section if isinstance(section, dict) else {}), **value}
        else:
            merged[key] = value
    return merged


class LocalProvider(Provider):
    """Evaluates a flags file in process; see ``docs/flags-file.md`` for the format."""

    name = "local"
    Options = LocalOptions
    options: LocalOptions

    def __init__(self, options: LocalOptions) -> None:
        super().__init__(options)
        self._snapshot: Snapshot = _EMPTY
        self._lock = threading.Lock()
        self._watcher: FileWatcher | None = None
        self._url: UrlSource | None = None
        self._public_key: Ed25519PublicKey | None = None
        self._closed = False
        self.reloads = 0
        self.failed_reloads = 0
        #: the last failed load's error, until a load succeeds
        self.last_error: str | None = None
        #: when the last load failed (epoch seconds); kept after a good load, so a
        #: monitor polling less often than reloads happen still sees a failure happened
        self.last_error_at: float | None = None
        self.loaded_at: float | None = None
        #: a digest of the definitions served (``feature_flag.version`` in telemetry)
        self.version: str | None = None
        #: the client has a sticky store: experiments bucket their ``fallback_unit``
        self._sticky_store = False
        #: experiment_groups' answers, per compiled experiment
        self._groups: dict[str, tuple[CompiledExperiment, Mapping[str, JsonValue]]] = {}

    # -- loading -------------------------------------------------------------------------
    @property
    def snapshot(self) -> Snapshot:
        """The definitions being served (an empty, not-ready snapshot before loading)."""
        return self._snapshot

    def _build(self, incoming: Incoming | None) -> tuple[Snapshot, str]:
        """The definitions compiled, and their version: a digest of what was read."""
        opts = self.options
        with paused_gc():
            if incoming is not None:
                self._verify(incoming)
                source = incoming.source
                document = parse_bytes(incoming.body, url_format(opts.url or ""), source)
            elif opts.path is None:
                snapshot = build(opts.flags or {}, source="inline flags", default_hash=opts.hash)
                return snapshot, _digest(_inline_text(opts.flags))
            else:
                source = opts.path
                document = parse_file(opts.path)
            data = _merge(document.data, opts.flags) if opts.flags else document.data
            snapshot = build(data, source=source, document=document, default_hash=opts.hash)
            return snapshot, _digest(document.text + _inline_text(opts.flags))

    def _verify(self, incoming: Incoming) -> None:
        key_text = self.options.public_key
        if key_text is None:
            return
        from flagport.providers.local import signing

        if self._public_key is None:
            self._public_key = signing.public_key(key_text)
        signing.verify(incoming.body, incoming.signature, self._public_key, incoming.source)

    def load(self, incoming: Incoming | None = None) -> Snapshot:
        """Load the definitions now and serve them.

        :param incoming: a version of the file fetched from ``url`` (or its cache);
            without it, ``path`` (or the inline ``flags``) is read.
        :raises ConfigurationError: the definitions are invalid (or their signature does
            not verify); the previous snapshot (if any) keeps serving.
        """
        with self._lock:
            snapshot, version = self._build(incoming)
            if self._closed:
                # A reload that finished after shutdown() must not bring definitions back.
                return snapshot
            if self._sticky_store:
                _fallback_units_on(snapshot)
            self.publish_definitions(lambda: self._serve(snapshot, version))
        return snapshot

    def _serve(self, snapshot: Snapshot, version: str) -> set[str] | None:
        """Serve ``snapshot``; the flags it changes (none for the same definitions in a
        new text, such as a comment edited)."""
        previous = self._snapshot
        self._snapshot = snapshot  # the one assignment readers see
        self.version = version
        self.loaded_at = time.time()
        self.last_error = None
        self.status = ProviderStatus.READY
        return _changed_flags(previous, snapshot)

    def reload(self, incoming: Incoming | None = None) -> bool:
        """Reload, logging a bad edit instead of raising.

        Every failure is counted in ``failed_reloads`` and kept in ``last_error`` and
        ``last_error_at``, an unexpected exception (a bug) included.

        :returns: True when new definitions are now served.
        """
        if self._closed:
            return False
        try:
            self.load(incoming)
        except Exception as exc:
            error = self._failed(exc, incoming)
            bug = not isinstance(exc, ConfigurationError)
            logger.error(
                "flagport: %s; still serving the previous definitions (%s)",
                error if bug else exc,
                self._snapshot.source or "none loaded",
                # A bug's traceback is for its report, not for the operator's log.
                exc_info=exc if bug and logger.isEnabledFor(logging.DEBUG) else None,
            )
            # Counted after logging, so whoever waits on the counter finds the log.
            self.failed_reloads += 1
            return False
        self.reloads += 1
        logger.info("flagport: reloaded %s", self._source_name(incoming))
        return True

    def _source_name(self, incoming: Incoming | None = None) -> str:
        if incoming is not None:
            return incoming.source
        if self._url is not None:
            return self._url.display
        return self.options.path or "inline flags"

    def _failed(self, exc: Exception, incoming: Incoming | None = None) -> str:
        self.last_error = _error_text(exc, self._source_name(incoming))
        self.last_error_at = time.time()
        return self.last_error

    # -- lifecycle -------------------------------------------------------------------------
    def start(self) -> None:
        """Load the definitions and, for a file with ``watch``, start watching it.

        The watcher starts even when the first load fails, so fixing the file makes
        the provider ready without a restart.

        What it serves when its client answers from it is what the application starts
        with: a later version is announced as a change, the first one after a failed
        start included (:meth:`~flagport.Provider.publish_definitions`).

        :raises ConfigurationError: the definitions are invalid (or the file missing).
        """
        with self._lock:
            self._closed = False
        if self.options.url is not None:
            self._start_url()
            return
        path = self.options.path
        if path is not None and self.options.watch:
            if self._watcher is None:
                self._watcher = FileWatcher(
                    Path(path),
                    self.reload,
                    interval=self.options.reload_interval,
                    settle=self.options.reload_settle,
                )
            # Taken before loading: a change in between is then seen as a change.
            self._watcher.start(file_signature(Path(path)))
        try:
            self.load()
        except Exception as exc:
            self.status = ProviderStatus.ERROR
            self._failed(exc)
            raise

    def _start_url(self) -> None:
        from flagport.providers.local.url_source import UrlSource

        if self._url is None:
            self._url = UrlSource(self)
        try:
            self._url.start()
        except ProviderNotReadyError:
            # The source recorded why (a located problem, or the server's error).
            self.status = ProviderStatus.ERROR
            raise

    def shutdown(self, timeout: float = 5.0) -> None:
        watcher, self._watcher = self._watcher, None
        if watcher is not None:
            watcher.stop(timeout=min(timeout, 2.0))
        url, self._url = self._url, None
        if url is not None:
            url.stop(timeout=min(timeout, 2.0))
        # Wait (boundedly) for a reload in progress, so it cannot serve after this.
        locked = self._lock.acquire(timeout=max(timeout, 0.0))
        try:
            self._closed = True
            self._snapshot = _EMPTY
            self.status = ProviderStatus.SHUT_DOWN
        finally:
            if locked:
                self._lock.release()

    # -- evaluation --------------------------------------------------------------------------
    def _missing(self, snapshot: Snapshot, kind: str, name: str) -> Exception:
        if not snapshot.ready:
            error = (self._url.last_error if self._url else None) or self.last_error
            detail = f": {error}" if error else ""
            return ProviderNotReadyError(f"the local provider has no definitions loaded{detail}")
        for section, other in _KINDS.items():
            if other != kind and name in getattr(snapshot, section):
                return FlagNotFoundError(
                    f"{name!r} is {with_article(other)} in {snapshot.source}, "
                    f"not {with_article(kind)}"
                )
        return FlagNotFoundError(f"no {kind} named {name!r} in {snapshot.source}")

    def check_gate(self, user: User, name: str, *, expose: bool = True) -> bool:
        snapshot = self._snapshot
        gate = snapshot.gates.get(name)
        if gate is None:
            raise self._missing(snapshot, "gate", name)
        return gate.evaluate(user).value

    def evaluate_gate(self, user: User, name: str, *, expose: bool = True) -> GateResult:
        snapshot = self._snapshot
        gate = snapshot.gates.get(name)
        if gate is None:
            raise self._missing(snapshot, "gate", name)
        return gate.evaluate(user)

    def evaluate_experiment(
        self, user: User, name: str, *, expose: bool = True
    ) -> ExperimentResult:
        snapshot = self._snapshot
        experiment = snapshot.experiments.get(name)
        if experiment is None:
            raise self._missing(snapshot, "experiment", name)
        return experiment.evaluate(user)

    def attach_sticky(self, sticky: Stickiness) -> None:
        """The client has a sticky store: from now on experiments bucket their
        ``fallback_unit`` when ``unit`` is missing (GrowthBook uses ``fallbackAttribute``
        only with a sticky-bucket service)."""
        with self._lock:
            self._sticky_store = True
            _fallback_units_on(self._snapshot)

    def sticky_policy(self, name: str) -> StickyPolicy | None:
        """The flags file's sticky policy of experiment ``name`` (None: it states none)."""
        experiment = self._snapshot.experiments.get(name)
        return experiment.sticky if experiment is not None else None

    def evaluate_config(self, user: User, name: str, *, expose: bool = True) -> ConfigResult:
        snapshot = self._snapshot
        config = snapshot.configs.get(name)
        if config is None:
            raise self._missing(snapshot, "config", name)
        return config.evaluate(user)

    def names(self) -> FlagNames:
        return self._snapshot.names

    def experiment_groups(self, name: str) -> Mapping[str, JsonValue] | None:
        """Every group the experiment can serve, with its value: its ``groups``, then the
        groups its rules serve (the sticky split's first, whose values a stored group of
        GrowthBook's rules takes)."""
        experiment = self._snapshot.experiments.get(name)
        if experiment is None:
            return None
        known = self._groups.get(name)
        if known is not None and known[0] is experiment:
            return known[1]
        found = {g.group: g.value for g in experiment.groups if g.group is not None}
        policy = experiment.sticky
        first = policy.split_rule if policy is not None else None
        for rule in sorted(experiment.rules, key=lambda rule: rule.id != first):
            served = [rule.hit, *(rule.select.outcomes if rule.select is not None else ())]
            for outcome in served:
                group = getattr(outcome, "group", None)
                if isinstance(group, str):
                    found.setdefault(group, outcome.value)
        self._groups[name] = (experiment, found)
        return found

    # -- introspection --------------------------------------------------------------------------
    def stats(self) -> dict[str, Any]:
        snapshot = self._snapshot
        watcher = self._watcher
        url = self._url
        url_stats = url.stats() if url is not None else None
        return {
            **({"url": url_stats} if url_stats is not None else {}),
            "source": snapshot.source or None,
            "version": self.version,
            # The server's name for the version served, when it gives one.
            **({"etag": url_stats.get("etag")} if url_stats is not None else {}),
            "hash": snapshot.hash,
            "gates": len(snapshot.gates),
            "experiments": len(snapshot.experiments),
            "configs": len(snapshot.configs),
            "loaded_at": self.loaded_at,
            "reloads": self.reloads,
            "failed_reloads": self.failed_reloads,
            "last_error": self.last_error,
            "last_error_at": self.last_error_at,
            "watching": bool(
                (watcher is not None and watcher.running) or (url is not None and url.running)
            ),
            "pid": os.getpid(),
        }

    def describe(self) -> dict[str, Any]:
        described = super().describe()
        if self.options.flags is not None:
            described["options"]["flags"] = "(inline definitions)"
        described["stats"] = self.stats()
        return described


def _changed_flags(previous: Snapshot, snapshot: Snapshot) -> set[str] | None:
    """The flags whose definitions differ; ``None`` when something any flag may read
    changed too (segments, the hash, the condition semantics)."""
    old, new = previous.definitions, snapshot.definitions
    if old is None or new is None:
        return None
    for field in type(new).model_fields:
        if field not in _KINDS and getattr(old, field) != getattr(new, field):
            return None
    return {
        name for kind in _KINDS for name in changed_names(getattr(old, kind), getattr(new, kind))
    }


def _fallback_units_on(snapshot: Snapshot) -> None:
    for experiment in snapshot.experiments.values():
        if experiment.fallback_switch is not None:
            experiment.fallback_switch.on = True


def _inline_text(flags: Mapping[str, Any] | None) -> str:
    """Inline flags as text, for the version digest: only once they compiled, as the
    checks that refuse a value containing itself run in the compiler."""
    if not flags:
        return ""
    try:
        return json.dumps(flags, sort_keys=True, default=str)
    except TypeError:  # keys JSON cannot sort or write (a tuple), served as their str()
        return repr(flags)


def _digest(text: str) -> str:
    return hashlib.blake2b(text.encode(), digest_size=8).hexdigest()
