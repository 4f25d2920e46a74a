"""The ``growthbook`` provider: flagport answers from GrowthBook's own evaluator.

GrowthBook's synchronous ``GrowthBook`` class keeps one user's attributes on the
instance, so one shared instance would answer one thread with another thread's user.
This provider uses the SDK the way its multi-user ``GrowthBookClient`` does: one
immutable global context per payload generation, a per-user ``UserContext`` (built
once per :class:`~flagport.User` and cached on it) and the SDK's
``growthbook.core.eval_feature`` for every answer. Nothing is shared between calls
but immutable data, so every thread gets its own user's answer.
"""

from __future__ import annotations

import atexit
import logging
import threading
import weakref
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, ClassVar

import growthbook
from growthbook import FeatureResult
from growthbook.common_types import EvaluationContext, StackContext
from growthbook.core import eval_feature

from flagport._fork import reset_in_child
from flagport.errors import (
    ConfigurationError,
    FlagNotFoundError,
    ProviderNotReadyError,
)
from flagport.events.exposures import ExposureDeduper
from flagport.events.model import Event, EventKind, FlagKind
from flagport.provider import FlagNames, Provider, ProviderStatus
from flagport.reasons import ErrorCode, Reason
from flagport.results import ConfigResult, ExperimentResult, GateResult
from flagport.sticky.policy import StickyPolicy
from flagport_growthbook._convert import (
    USER_KEY,
    as_mapping,
    event_row,
    public_attributes,
    to_user_context,
    warn_once,
)
from flagport_growthbook._definitions import (
    Definitions,
    build_definitions,
    changed_features,
    decrypt_payload,
    experiment_groups,
)
from flagport_growthbook._ingest import IngestSender
from flagport_growthbook._sticky import StoreStickyBucketService
from flagport_growthbook._sync import DefinitionsSync
from flagport_growthbook.options import GrowthBookOptions

if TYPE_CHECKING:
    from flagport.sticky.engine import Stickiness
    from flagport.user import User

__all__ = ["GrowthBookProvider"]

logger = logging.getLogger("flagport.growthbook")
SDK_VERSION: str = getattr(growthbook, "__version__", "unknown")

# Sources of a FeatureResult that are not a rule's or the default's answer.
_UNUSABLE = {"cyclicPrerequisite": Reason.ERROR, "prerequisite": Reason.DISABLED}

_live: weakref.WeakSet[GrowthBookProvider] = weakref.WeakSet()
#: GrowthBook keeps its experiments' groups itself: flagport's own layer stands aside.
_KEPT_BY_GROWTHBOOK = StickyPolicy(sticky=False)


class GrowthBookProvider(Provider):
    """Gates, experiments and configs from GrowthBook features.

    Every GrowthBook feature is a flag of each kind: a gate is the feature's value
    taken as on/off (GrowthBook's ``is_on``), an experiment is the feature's
    experiment rule (group = variation key), a config is the feature's JSON value.
    :meth:`names` files each feature under one kind for ``evaluate_all``.
    """

    name = "growthbook"
    Options = GrowthBookOptions
    options: GrowthBookOptions
    logs_own_exposures: ClassVar[bool] = False

    def __init__(self, options: GrowthBookOptions) -> None:
        super().__init__(options)
        options.check()
        self._defs: Definitions | None = None
        self._bootstrap: Definitions | None = None
        payload = options.bootstrap_payload()
        if payload is not None:
            source = (
                str(options.bootstrap)
                if not isinstance(options.bootstrap, Mapping)
                else "bootstrap"
            )
            payload = decrypt_payload(payload, source, options.decryption_key)
            self._bootstrap = build_definitions(payload, source)
        self._sync: DefinitionsSync | None = None
        self._ingest: IngestSender | None = None
        self._lock = threading.Lock()
        self._forked = False
        self._exposed = ExposureDeduper()
        self._warned: set[str] = set()
        self._sticky: StoreStickyBucketService | None = None
        self.reloads = 0

    # -- lifecycle -----------------------------------------------------------------
    def start(self) -> None:
        """Serve the bootstrap at once; when online, fetch and wait ``init_timeout``."""
        opts = self.options
        reset_in_child(self, GrowthBookProvider._after_fork_in_child)
        if self._bootstrap is not None:
            self._swap(self._bootstrap)
        if opts.online and opts.client_key is not None:
            key = opts.client_key.get_secret_value()
            self._sync = DefinitionsSync(
                api_host=opts.api_host,
                client_key=key,
                decryption_key=(
                    opts.decryption_key.get_secret_value() if opts.decryption_key else ""
                ),
                on_payload=self._on_payload,
                on_health=self._on_health,
                streaming=opts.streaming,
                refresh_interval=opts.refresh_interval,
                retry_interval=opts.retry_interval,
                http_timeout=opts.http_timeout,
                reconnect_delay=opts.streaming_reconnect_delay,
            )
            self._sync.start()
            # With a bootstrap there is something to serve already: do not wait.
            if self._defs is None and not self._sync.loaded.wait(opts.init_timeout):
                logger.warning(
                    "flagport-growthbook: no features from %s within %.1fs; serving "
                    "defaults (PROVIDER_NOT_READY) and retrying every %.1fs",
                    opts.api_host,
                    opts.init_timeout,
                    opts.retry_interval,
                )
            if opts.ingestor_host:
                self._ingest = IngestSender(
                    f"{opts.ingestor_host.rstrip('/')}/track?client_key={key}",
                    f"growthbook-python-sdk/{SDK_VERSION}",
                    batch_size=opts.events_batch_size,
                    flush_interval=opts.events_flush_interval,
                    max_queue=opts.events_max_queue,
                    timeout=opts.http_timeout,
                )
        _live.add(self)
        if self._defs is not None:
            self.status = ProviderStatus.READY

    def _on_payload(self, payload: dict[str, Any]) -> None:
        try:
            defs = build_definitions(payload, f"{self.options.api_host} payload")
        except ConfigurationError as exc:
            # A bad payload must not replace good definitions; keep serving the last.
            logger.error("flagport-growthbook: ignoring a payload: %s", exc)
            return
        self._swap(defs)

    def _on_health(self, reachable: bool) -> None:
        # STALE: still serving the last definitions, but GrowthBook is not answering.
        if reachable and self.status is ProviderStatus.STALE:
            self.status = ProviderStatus.READY
        elif not reachable and self.status is ProviderStatus.READY:
            self.status = ProviderStatus.STALE

    def _swap(self, defs: Definitions) -> None:
        if self.status is ProviderStatus.SHUT_DOWN:
            return  # a fetch that finished during shutdown must not revive the provider
        defs.context.options.sticky_bucket_service = self._sticky

        def swap() -> set[str] | None:
            previous, self._defs = self._defs, defs
            self.reloads += 1
            self.status = ProviderStatus.READY
            return changed_features(previous, defs)

        self.publish_definitions(swap)

    def _after_fork_in_child(self) -> None:
        # Streaming, polling and event sending are the parent's threads (one may have
        # held the lock): touch nothing of theirs. The flagport client builds a new
        # provider in the child; used alone, this one keeps serving its definitions.
        self._lock = threading.Lock()
        self._sync = self._ingest = None
        self._forked = True
        _live.discard(self)

    # -- sticky bucketing --------------------------------------------------------------
    def attach_sticky(self, sticky: Stickiness) -> None:
        """Keep GrowthBook's sticky buckets in the client's sticky store (the client
        calls this when it has ``sticky`` settings), unless ``sticky_bucketing`` is off."""
        if not self.options.sticky_bucketing:
            return
        self._sticky = StoreStickyBucketService(
            sticky, self.options.sticky_bucket_identifier_attributes
        )
        defs = self._defs
        if defs is not None:
            defs.context.options.sticky_bucket_service = self._sticky

    def sticky_policy(self, name: str) -> StickyPolicy | None:
        """Not sticky for flagport's own layer while GrowthBook buckets stickily itself
        (else None: the client's settings decide)."""
        return _KEPT_BY_GROWTHBOOK if self._sticky is not None else None

    def flush(self, timeout: float = 5.0) -> None:
        if self._ingest is not None:
            self._ingest.flush(timeout)

    def shutdown(self, timeout: float = 5.0) -> None:
        """Deliver queued events, stop streaming and polling; bounded by ``timeout``."""
        self.status = ProviderStatus.SHUT_DOWN
        self._defs = None
        _live.discard(self)
        with self._lock:
            sync, self._sync = self._sync, None
            ingest, self._ingest = self._ingest, None
        if ingest is not None:
            ingest.close(timeout * 0.6)
        if sync is not None:
            sync.stop(timeout * 0.4)

    # -- evaluation --------------------------------------------------------------------
    def _ready(self, name: str) -> Definitions:
        defs = self._defs
        if defs is None:
            raise ProviderNotReadyError(
                "growthbook has no definitions yet"
                if self.status is not ProviderStatus.SHUT_DOWN
                else "the growthbook provider was shut down"
            )
        if name not in defs.context.features:
            raise FlagNotFoundError(f"growthbook has no feature {name!r}")
        return defs

    def check_gate(self, user: User, name: str, *, expose: bool = True) -> bool:
        defs = self._defs
        if defs is None or name not in defs.context.features:
            defs = self._ready(name)
        res = self._eval(defs, user, name)
        if expose and res.source == "experiment":
            self._expose(user, name, res, FlagKind.GATE)
        return res.on

    def _eval(self, defs: Definitions, user: User, name: str) -> FeatureResult[Any]:
        # A fresh EvaluationContext per call: the SDK writes its prerequisite stack
        # into it, so sharing one across threads would mix evaluations.
        ctx = user.provider_cache.get(USER_KEY) or to_user_context(user)
        sticky = self._sticky
        if sticky is None:
            return eval_feature(
                name, EvaluationContext(ctx, defs.context, StackContext(None, set()))
            )
        ctx = sticky.user_context(user, ctx, defs.context, defs.sticky_attributes)
        res = eval_feature(name, EvaluationContext(ctx, defs.context, StackContext(None, set())))
        sticky.count_served(res.experimentResult)
        return res

    def _expose(self, user: User, name: str, res: FeatureResult[Any], via: FlagKind) -> None:
        """Report an experiment assignment reached through a gate or config.

        GrowthBook counts a user in an experiment whenever a feature evaluation lands
        in its rule, whatever accessor was used; flagport's client only exposes
        ``get_experiment`` calls, so the other paths report here (de-duplicated).
        """
        exp = res.experimentResult
        if exp is None or not exp.inExperiment:
            return
        if not self._exposed.first_time(str(exp.hashValue), name, str(exp.key)):
            return
        self.emit(
            Event(
                kind=EventKind.EXPOSURE,
                name=name,
                user=user,
                provider=self.name,
                flag_kind=FlagKind.EXPERIMENT,
                group=str(exp.key),
                rule_id=res.ruleId or None,
                metadata={"reason": Reason.SPLIT.value, "via": via.value},
            )
        )

    def _fields(self, defs: Definitions, name: str, res: FeatureResult[Any]) -> dict[str, Any]:
        """The result fields every kind shares: name, reason, rule, provider, error."""
        source = res.source
        if source == "force":
            reason = defs.rule_reasons.get((name, res.ruleId), Reason.TARGETING_MATCH)
        elif source == "experiment":
            reason = Reason.SPLIT
        elif source in _UNUSABLE:
            reason = _UNUSABLE[source]
        else:
            reason = Reason.DEFAULT if name in defs.has_rules else Reason.STATIC
        fields: dict[str, Any] = {
            "name": name,
            "reason": reason,
            "rule_id": res.ruleId or None,
            "provider": self.name,
        }
        if reason is Reason.ERROR:
            fields["error_code"] = ErrorCode.GENERAL
            fields["error_message"] = f"growthbook: cyclic prerequisites in feature {name!r}"
        return fields

    def evaluate_gate(self, user: User, name: str, *, expose: bool = True) -> GateResult:
        defs = self._defs
        if defs is None or name not in defs.context.features:
            defs = self._ready(name)
        res = self._eval(defs, user, name)
        if expose and res.source == "experiment":
            self._expose(user, name, res, FlagKind.GATE)
        key = (name, res.ruleId, res.on, res.source)
        result = defs.gates.get(key)
        if result is None:
            result = GateResult(value=res.on, **self._fields(defs, name, res))
            defs.gates[key] = result
        return result

    def evaluate_experiment(
        self, user: User, name: str, *, expose: bool = True
    ) -> ExperimentResult:
        defs = self._defs
        if defs is None or name not in defs.context.features:
            defs = self._ready(name)
        res = self._eval(defs, user, name)
        exp = res.experimentResult if res.source == "experiment" else None
        key = _value_key(name, res)
        result = defs.experiments.get(key) if key is not None else None
        if result is None:
            fields = self._fields(defs, name, res)
            if exp is not None and exp.stickyBucketUsed and exp.inExperiment:
                fields["reason"] = Reason.STICKY  # GrowthBook served the stored bucket
            result = ExperimentResult(
                group=str(exp.key) if exp is not None else None,
                value=as_mapping(res.value),
                in_experiment=bool(exp is not None and exp.inExperiment and exp.hashUsed),
                **fields,
            )
            if key is not None:
                defs.experiments[key] = result
        return result

    def evaluate_config(self, user: User, name: str, *, expose: bool = True) -> ConfigResult:
        defs = self._defs
        if defs is None or name not in defs.context.features:
            defs = self._ready(name)
        res = self._eval(defs, user, name)
        if expose and res.source == "experiment":
            self._expose(user, name, res, FlagKind.CONFIG)
        key = _value_key(name, res)
        result = defs.configs.get(key) if key is not None else None
        if result is None:
            result = ConfigResult(value=as_mapping(res.value), **self._fields(defs, name, res))
            if key is not None:
                defs.configs[key] = result
        return result

    def names(self) -> FlagNames:
        defs = self._defs
        return defs.names if defs is not None else FlagNames()

    def experiment_groups(self, name: str) -> Mapping[str, Mapping[str, Any]] | None:
        """The variations of the feature's experiment rule by key, each with its value;
        None when the feature has no experiment rule or several (a group name alone
        does not say which rule's value it is)."""
        defs = self._defs
        return experiment_groups(defs, name) if defs is not None else None

    # -- events ------------------------------------------------------------------------
    def log_event(self, event: Event) -> None:
        ingest = self._ingest
        if ingest is None:
            warn_once(
                "no-ingestor",
                "flagport-growthbook: events are not sent to GrowthBook (%s); they reach "
                "flagport's own sinks only",
                "offline"
                if not self.options.online
                else "inherited through fork()"
                if self._forked
                else "no ingestor_host set",
                seen=self._warned,
            )
            return
        experiment = None
        if event.kind is EventKind.EXPOSURE and event.flag_kind is FlagKind.EXPERIMENT:
            experiment = self._assignment(event)
        ingest.send(event_row(event, SDK_VERSION, experiment))

    def _assignment(self, event: Event) -> dict[str, Any]:
        """The SDK's view of an exposure: experiment key, variation, hash inputs."""
        info: dict[str, Any] = {}
        defs = self._defs
        feature = defs.context.features.get(event.name) if defs is not None else None
        if feature is None:
            return info
        for rule in feature.rules:
            if rule.id != event.rule_id or rule.variations is None:
                continue
            info["experiment_id"] = rule.key or event.name
            keys = [str(m.get("key", i)) for i, m in enumerate(rule.meta or [])] or [
                str(i) for i in range(len(rule.variations))
            ]
            if event.group in keys:
                info["variation_id"] = keys.index(event.group)
            attribute = rule.hashAttribute or "id"
            info["hash_attribute"] = attribute
            value = public_attributes(event.user).get(attribute)
            info["hash_value"] = value if isinstance(value, str | int | float) else None
            break
        return info

    # -- introspection ---------------------------------------------------------------
    def describe(self) -> dict[str, Any]:
        data = super().describe()
        bootstrap = self.options.bootstrap
        if isinstance(bootstrap, Mapping):
            # A payload can be large; its size says enough here.
            count = len(bootstrap.get("features") or bootstrap)
            data["options"]["bootstrap"] = f"<payload with {count} features>"
        return data

    def stats(self) -> dict[str, Any]:
        defs = self._defs
        data: dict[str, Any] = {
            "features": len(defs.context.features) if defs is not None else 0,
            "version": defs.version if defs is not None else None,
            "reloads": self.reloads,
        }
        sync = self._sync
        if sync is not None:
            data.update(
                fetches=sync.fetches,
                fetch_failures=sync.fetch_failures,
                sse_events=sync.sse_events,
                streaming_active=sync.streaming_active,
            )
        ingest = self._ingest
        if ingest is not None:
            data.update(
                events_sent=ingest.sent,
                events_failed=ingest.failed,
                events_dropped=ingest.dropped,
                events_pending=ingest.pending(),
            )
        return data


def _value_key(name: str, res: FeatureResult[Any]) -> tuple[str, str, int, str, bool] | None:
    """A cache key that determines the result's value and reason, or None when none does."""
    exp = res.experimentResult
    if res.source == "experiment" and exp is not None:
        return (name, res.ruleId or "", exp.variationId, res.source, exp.stickyBucketUsed)
    if res.source == "force":
        # Without a rule id two rules could share the key with different values.
        return (name, res.ruleId, -1, res.source, False) if res.ruleId else None
    return (name, "", -1, res.source, False)


def _shutdown_live() -> None:
    for provider in list(_live):
        try:
            provider.shutdown(timeout=2.0)
        except Exception as exc:  # pragma: no cover - exit path, keep going
            logger.debug("flagport-growthbook: shutdown at exit: %s", exc)


atexit.register(_shutdown_live)
