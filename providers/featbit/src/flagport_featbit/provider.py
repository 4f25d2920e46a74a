"""The ``featbit`` provider: flagport's API over FeatBit's Python SDK (``fbclient``).

FeatBit has one kind of thing, the feature flag; flagport reads boolean flags as
gates, and other flags as experiments (when a rule or the fall-through includes its
traffic in experiments) or configs. The SDK returns defaults silently for unknown
flags, so the provider keeps the known names, refreshed whenever FeatBit's storage
accepts new definitions, and raises ``FlagNotFoundError`` itself.
"""

from __future__ import annotations

import functools
import json
import logging
import threading
import time
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from fbclient import Config, FBClient
from fbclient.category import FEATURE_FLAGS, SEGMENTS
from fbclient.config import WebSocketConfig
from fbclient.status_types import StateType

from flagport._changes import changed_names
from flagport._fork import reset_in_child
from flagport._redirects import shown_origin
from flagport._wording import with_article
from flagport.errors import (
    ConfigurationError,
    FlagNotFoundError,
    FlagportError,
    Location,
    ProviderNotReadyError,
    TypeMismatchError,
)
from flagport.events.model import EventKind
from flagport.jsonfile import read_json_object
from flagport.provider import FlagNames, Provider, ProviderStatus
from flagport.settings import validate_options
from flagport_featbit._convert import (
    USER_CACHE_KEY,
    CompiledFlag,
    check_data_sync,
    compile_flags,
    encode_metrics,
    featbit_user,
    warn_once,
)
from flagport_featbit._sdk import Counters, WatchedStorage, processor_factory, quiet
from flagport_featbit._streaming import streaming_factory
from flagport_featbit.options import FeatBitOptions

if TYPE_CHECKING:
    from flagport.events.model import Event
    from flagport.results import ConfigResult, ExperimentResult, GateResult
    from flagport.user import User

__all__ = ["FeatBitProvider"]

logger = logging.getLogger("flagport.featbit")

# Config requires both URLs even offline; nothing connects to them.
_OFFLINE_EVENT_URL = "http://offline.invalid"
_OFFLINE_STREAMING_URL = "ws://offline.invalid"
#: How FeatBit's data sync closes a connection whose token (env_secret) it refuses.
_REFUSED = "(code 4003)"
# How long shutdown() waits for FBClient.stop() once events are delivered.
_STOP_WAIT = 0.5


def load_bootstrap(bootstrap: Any) -> str:
    """Read and check offline definitions; return them as the JSON FeatBit accepts.

    :param bootstrap: a path to a JSON file, or the data-sync message as a mapping.
    :raises ConfigurationError: the file is missing or is not a valid data-sync message.
    """
    source, payload = read_json_object(
        bootstrap, what="featbit bootstrap", option="bootstrap (FLAGPORT_FEATBIT_BOOTSTRAP)"
    )
    message, problems = check_data_sync(payload)
    if problems:
        raise ConfigurationError(
            "featbit bootstrap is not a FeatBit data-sync message "
            '({"messageType": "data-sync", "data": {"eventType": "full", "featureFlags": '
            '[...], "segments": [...]}})',
            [(Location(source, path), text) for path, text in problems],
        )
    return json.dumps(message)


class FeatBitProvider(Provider):
    """Gates, experiments, configs and events from FeatBit.

    :param options: validated :class:`~flagport_featbit.FeatBitOptions`.
    """

    name = "featbit"
    Options = FeatBitOptions
    options: FeatBitOptions
    # FeatBit records an insight event on every evaluation itself; flagport's own
    # exposure events still reach log_event, which sends only the manual ones.
    logs_own_exposures = False

    def __init__(self, options: FeatBitOptions) -> None:
        super().__init__(options)
        self._bootstrap = load_bootstrap(options.bootstrap) if options.offline else None
        self._client: Any = None
        self._start_lock = threading.Lock()
        self._tables_lock = threading.Lock()
        # The run's storage: what another run's SDK (one still stopping) reports is ignored.
        self._storage: WatchedStorage | None = None
        self._compiled: dict[str, CompiledFlag] | None = None
        # The flags and segments stored last, as FeatBit sent them: what changed is
        # told from them.
        self._stored: tuple[Mapping[str, Any], Mapping[str, Any]] | None = None
        # The hot path reads these two without a lock: each is replaced, never mutated.
        self._gates: dict[str, CompiledFlag] = {}
        self._flags: dict[str, CompiledFlag] = {}
        self._names = FlagNames()
        self._ready = False
        self._counters = Counters()
        self._updates = 0
        self._offline_events = 0
        self._forked = False
        self._refused = False

    @classmethod
    def from_options(cls, **options: Any) -> FeatBitProvider:
        """Validate ``options`` and build the provider.

        :raises ConfigurationError: an option is unknown, ill-typed or missing.
        """
        validated = validate_options(
            cls.Options, options, {k: f"argument {k}" for k in options}, "provider 'featbit'"
        )
        return cls(validated)

    # -- lifecycle -----------------------------------------------------------------
    def start(self) -> None:
        """Connect (or load the bootstrap) and wait up to ``start_wait`` for definitions."""
        with self._start_lock:
            if self._client is not None:
                return
            opts = self.options
            if opts.quiet_sdk_logs:
                sdk_logger = logging.getLogger("fbclient")
                if sdk_logger.level == logging.NOTSET:
                    sdk_logger.setLevel(logging.WARNING)
            storage = self._storage = WatchedStorage(self._definitions_changed)
            secret = opts.env_secret.get_secret_value() if opts.env_secret else "offline"
            reset_in_child(self, FeatBitProvider._after_fork_in_child)
            if opts.offline:
                config = Config(
                    secret,
                    _OFFLINE_EVENT_URL,
                    _OFFLINE_STREAMING_URL,
                    offline=True,
                    data_storage=storage,
                )
                client = FBClient(config, start_wait=0)
                self._client = client
                if not client.initialize_from_external_json(self._bootstrap):
                    self._client = None
                    _stop(client, 1.0)
                    raise ConfigurationError(
                        "FeatBit rejected the bootstrap (its flags need an 'updatedAt' "
                        "timestamp after 1970); fix the 'bootstrap' option"
                    )
            else:
                config = Config(
                    secret,
                    opts.event_url,
                    opts.streaming_url,
                    streaming_first_retry_delay=opts.streaming_first_retry_delay,
                    events_max_in_queue=opts.events_max_in_queue,
                    events_flush_interval=opts.events_flush_interval,
                    data_storage=storage,
                    event_processor_imp=processor_factory(self._counters),
                    # The SDK's streaming, following redirects only within streaming_url's
                    # server: websocket-client sends the env_secret wherever one leads.
                    update_processor_imp=streaming_factory,
                    websocket=WebSocketConfig(timeout=opts.connect_timeout),
                )
                # Blocks for at most start_wait; afterwards the SDK keeps retrying.
                client = FBClient(config, start_wait=opts.start_wait)
                self._client = client
            client.update_status_provider.add_listener(
                functools.partial(self._state_changed, storage)
            )
            self._say_if_refused(client.update_status_provider.current_state)  # within start
            with self._tables_lock:
                self._publish()  # what the syncs within FBClient's constructor brought
            if not self._ready:
                logger.warning(
                    "flagport featbit: no definitions from %s within start_wait=%ss; serving "
                    "defaults (PROVIDER_NOT_READY) while the SDK keeps connecting",
                    opts.streaming_url,
                    opts.start_wait,
                )

    def _after_fork_in_child(self) -> None:
        # The SDK's threads did not survive the fork and any lock may have been held by
        # one of them: forget the inherited client (never stop it: that hangs) so this
        # object fails clearly instead of serving without updates or events.
        self._start_lock = threading.Lock()
        self._tables_lock = threading.Lock()
        self._forget_definitions()
        self._counters = Counters()
        if self._client is not None and self.status is not ProviderStatus.SHUT_DOWN:
            self._client = None
            self._forked = True
            self.status = ProviderStatus.NOT_READY

    def _forget_definitions(self) -> None:
        # What the SDK of a run (or of the parent, before fork) delivered: a later start
        # is ready on what its own SDK delivers.
        self._gates = {}
        self._flags = {}
        self._names = FlagNames()
        self._ready = False
        self._compiled = None
        self._stored = None

    def _definitions_changed(self, storage: WatchedStorage) -> None:
        # Runs on the SDK's streaming thread (or the caller's, offline); must not wait
        # for start(), which may be blocked in FBClient's constructor waiting for us.
        if storage is not self._storage:
            return  # the SDK of a run that ended, still stopping
        flags, segments = storage.get_all(FEATURE_FLAGS), storage.get_all(SEGMENTS)
        compiled = compile_flags(flags, self._compiled)

        def swap() -> set[str] | None:
            with self._tables_lock:
                self._compiled = compiled
                self._updates += 1
                self._publish()
                previous, self._stored = self._stored, (flags, segments)
            if self.status is ProviderStatus.SHUT_DOWN:
                return set()
            if previous is None:
                return set(flags)
            # A segment edited may change any flag that targets it.
            return changed_names(previous[0], flags) if previous[1] == segments else None

        # FeatBit's own FlagTracker is not used: it names every flag of each full data
        # sync, changed or not.
        self.publish_definitions(swap)

    def _publish(self) -> None:
        compiled = self._compiled
        if compiled is None or self._client is None or self.status is ProviderStatus.SHUT_DOWN:
            return
        gates = {k: f for k, f in compiled.items() if f.is_gate}
        self._flags = compiled
        self._gates = gates
        self._names = FlagNames(
            gates=frozenset(gates),
            experiments=frozenset(
                k for k, f in compiled.items() if not f.is_gate and f.is_experiment
            ),
            configs=frozenset(
                k for k, f in compiled.items() if not f.is_gate and not f.is_experiment
            ),
        )
        self._ready = True
        self.status = ProviderStatus.READY

    def _state_changed(self, storage: WatchedStorage, state: Any) -> None:
        if self.status is ProviderStatus.SHUT_DOWN or storage is not self._storage:
            return
        self._say_if_refused(state)
        kind = state.state_type
        if kind is StateType.OK and self._ready:
            self.status = ProviderStatus.READY
        elif kind is StateType.INTERRUPTED and self._ready:
            self.status = ProviderStatus.STALE
        elif kind is StateType.OFF and state.error_track is not None:
            logger.error(
                "flagport featbit: FeatBit stopped streaming for good (%s: %s); check "
                "env_secret and streaming_url. Definitions will not update",
                state.error_track.error_type,
                state.error_track.message,
            )
            self.status = ProviderStatus.ERROR

    def _say_if_refused(self, state: Any) -> None:
        track = state.error_track
        if track is not None and _REFUSED in str(track.message) and not self._refused:
            self._refused = True  # said once: the SDK retries, and is refused again
            logger.warning(
                "flagport featbit: %s refused the env_secret (websocket %s); check env_secret "
                "(FLAGPORT_FEATBIT_ENV_SECRET): the server key of this environment",
                shown_origin(self.options.streaming_url or ""),
                track.message,
            )

    def flush(self, timeout: float = 5.0) -> None:
        """Send queued insight events now and wait (at most ``timeout``) until posted."""
        client = self._client
        if client is None or self.options.offline or self.status is ProviderStatus.SHUT_DOWN:
            return
        self._flush(client, timeout)

    def _flush(self, client: Any, timeout: float) -> None:
        target = self._counters.accepted
        client.flush()
        if not self._counters.wait_for(target, timeout):
            logger.warning(
                "flagport featbit: %d event(s) not yet posted within %.1fs",
                target - self._counters.delivered - self._counters.failed,
                timeout,
            )

    def shutdown(self, timeout: float = 5.0) -> None:
        """Deliver queued events and stop FeatBit's threads, within ``timeout`` seconds.

        Evaluations and events are refused from the start, then queued events are
        flushed and their delivery awaited; only then is FBClient.stop() called, on a
        daemon thread, because it closes the websocket before it sends the last batch
        and that step can stall for ``connect_timeout`` + 1 seconds (a race in the
        websocket client). The stop is awaited briefly and otherwise finishes in the
        background.
        """
        deadline = time.monotonic() + timeout
        with self._start_lock, self._tables_lock:
            if self.status is ProviderStatus.SHUT_DOWN:
                return
            self.status = ProviderStatus.SHUT_DOWN
            self._forget_definitions()
            # The next start builds a new SDK client: FeatBit's cannot start again.
            client, self._client, self._storage = self._client, None, None
        # A client inherited through fork() has no threads here and its stop() waits
        # forever for them: the fork reset forgot it (the flagport client builds a new one).
        if client is None:
            return
        if not self.options.offline:
            self._flush(client, timeout)
            self._counters.hang_up()
        _stop(client, min(_STOP_WAIT, max(0.0, deadline - time.monotonic())))

    # -- evaluation ----------------------------------------------------------------
    def _missing(self, name: str, kind: str) -> FlagportError:
        if self.status is ProviderStatus.SHUT_DOWN:
            return ProviderNotReadyError("the featbit provider was shut down")
        if not self._ready:
            if self._forked:
                return ProviderNotReadyError(
                    "this featbit provider was started before fork(); FeatBit's SDK does not "
                    "survive a fork. Flagport's client builds a fresh provider in the child "
                    "by itself; when using the provider directly, create it after forking"
                )
            if self._client is None:
                return ProviderNotReadyError("the featbit provider has not been started")
            return ProviderNotReadyError(
                f"FeatBit has not delivered flag definitions yet "
                f"(streaming_url={self.options.streaming_url!r})"
                + ("; it refused the env_secret: check env_secret" if self._refused else "")
            )
        flag = self._flags.get(name)
        if flag is not None:
            wanted = "boolean" if kind == "gate" else "non-boolean"
            return TypeMismatchError(
                f"{name!r} is a FeatBit {flag.variation_type} flag; {with_article(kind)} needs "
                f"a {wanted} flag"
            )
        return FlagNotFoundError(f"FeatBit does not know the {kind} {name!r}")

    def _running_client(self, name: str, kind: str) -> Any:
        """The SDK client, read once: a shutdown on another thread drops it between the
        flag lookup and the call, and the caller then gets "shut down", not an
        AttributeError."""
        client = self._client
        if client is None:
            raise self._missing(name, kind)
        return client

    def check_gate(self, user: User, name: str, *, expose: bool = True) -> bool:
        if name not in self._gates:
            raise self._missing(name, "gate")
        client = self._running_client(name, "gate")
        attrs = user.provider_cache.get(USER_CACHE_KEY) or featbit_user(user)
        if expose:
            return client.variation(name, attrs, False) is True
        quiet.on = True
        try:
            return client.variation(name, attrs, False) is True
        finally:
            quiet.on = False

    def _evaluate(self, kind: str, flag: CompiledFlag, user: User, expose: bool) -> Any:
        # The SDK's default value goes unused (results come from the variation id), but
        # it is type-checked on every call: False is the cheapest (None raises inside).
        client = self._running_client(flag.key, kind)
        attrs = user.provider_cache.get(USER_CACHE_KEY) or featbit_user(user)
        if expose:
            detail = client.variation_detail(flag.key, attrs, False)
        else:
            quiet.on = True
            try:
                detail = client.variation_detail(flag.key, attrs, False)
            finally:
                quiet.on = False
        vid = detail.variation_id
        if vid is not None and vid not in flag.values:
            # Definitions changed between our lookup and the SDK's: use the newer ones.
            flag = self._flags.get(flag.key, flag)
        return flag.result(kind, detail.reason, vid)

    def evaluate_gate(self, user: User, name: str, *, expose: bool = True) -> GateResult:
        flag = self._gates.get(name)
        if flag is None:
            raise self._missing(name, "gate")
        result: GateResult = self._evaluate("gate", flag, user, expose)
        return result

    def evaluate_experiment(
        self, user: User, name: str, *, expose: bool = True
    ) -> ExperimentResult:
        # Any flag can be an experiment: a boolean A/B test serves {"value": true/false}.
        flag = self._flags.get(name)
        if flag is None:
            raise self._missing(name, "experiment")
        result: ExperimentResult = self._evaluate("experiment", flag, user, expose)
        return result

    def evaluate_config(self, user: User, name: str, *, expose: bool = True) -> ConfigResult:
        flag = self._flags.get(name)
        if flag is None or flag.is_gate:
            raise self._missing(name, "config")
        result: ConfigResult = self._evaluate("config", flag, user, expose)
        return result

    def names(self) -> FlagNames:
        return self._names

    # -- events ----------------------------------------------------------------------
    def log_event(self, event: Event) -> None:
        """Send a custom event as FeatBit metrics, or a manual exposure as an insight.

        Automatic exposures are skipped: FeatBit already recorded the evaluation.
        """
        client = self._client
        if client is None or self.status is ProviderStatus.SHUT_DOWN:
            raise (
                self._missing(event.name, "event")
                if self._forked
                else ProviderNotReadyError("the featbit provider is not running; event not sent")
            )
        manual = event.kind is EventKind.EXPOSURE and bool(event.metadata.get("manual"))
        if event.kind is EventKind.EXPOSURE and not manual:
            return
        if self.options.offline:
            self._offline_events += 1
            warn_once(
                "offline-events",
                "flagport featbit: offline mode sends no events to FeatBit (flagport's own "
                "event sinks still receive them)",
            )
            return
        attrs = featbit_user(event.user)
        if manual:
            # FeatBit's exposure record is an evaluation insight: evaluate again.
            client.variation_detail(event.name, attrs, False)
            return
        client.track_metrics(attrs, encode_metrics(event))

    def stats(self) -> dict[str, Any]:
        return {
            **self._counters.as_dict(),
            "definition_updates": self._updates,
            "flags": len(self._flags),
            "offline_events_not_sent": self._offline_events,
        }

    def describe(self) -> dict[str, Any]:
        info = super().describe()
        if isinstance(self.options.bootstrap, Mapping):
            info["options"]["bootstrap"] = "<data-sync message>"
        return info


def _stop(client: Any, timeout: float) -> None:
    # FBClient.stop() waits on events without timeouts in places; run it on a daemon
    # thread so shutdown() returns in time even when the SDK does not.
    worker = threading.Thread(target=client.stop, name="flagport-featbit-stop", daemon=True)
    worker.start()
    worker.join(timeout)
    if worker.is_alive():
        # Events were flushed before; what remains is the SDK closing its websocket.
        logger.info(
            "flagport featbit: FeatBit's stop() still running after %.1fs; it finishes "
            "in the background",
            timeout,
        )
