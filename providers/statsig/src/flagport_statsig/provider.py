"""The ``statsig`` provider: flagport over Statsig's server core SDK (statsig-python-core).

Evaluation is the SDK's own (its Rust evaluator, its bucketing, its exposure
logging); this module adds what flagport promises on top: unknown flags raise
``FlagNotFoundError`` (the SDK answers them silently with defaults), a provider
without definitions raises ``ProviderNotReadyError``, reasons in the OpenFeature
vocabulary, a bounded shutdown, and a fresh SDK per process after ``fork()``.
"""

from __future__ import annotations

import concurrent.futures
import json
import logging
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from statsig_python_core import (
    DynamicConfigEvaluationOptions,
    ExperimentEvaluationOptions,
    FeatureGateEvaluationOptions,
    LayerEvaluationOptions,
    Statsig,
    StatsigBasePy,
)

from flagport._fork import reset_in_child
from flagport._memos import Budget, Memo
from flagport._wording import with_article
from flagport.errors import (
    ConfigurationError,
    FlagNotFoundError,
    GeneralError,
    Location,
    ProviderNotReadyError,
    TypeMismatchError,
)
from flagport.events.model import EventKind, FlagKind
from flagport.provider import FlagNames, Provider, ProviderStatus
from flagport.reasons import Reason
from flagport.results import ConfigResult, ExperimentResult, GateResult, freeze
from flagport_statsig._convert import (
    SPECIAL_RULES,
    RuleIndex,
    build_rule_index,
    event_metadata,
    load_bootstrap,
    to_statsig_user,
    warn_once,
)
from flagport_statsig.egress import EgressGuard
from flagport_statsig.options import StatsigOptions
from flagport_statsig.result_keys import ValueIndex, build_value_index
from flagport_statsig.sdk_options import check_urls, private_urls, sdk_options
from flagport_statsig.sdk_output import masked_whole
from flagport_statsig.spec_changes import Specs, changed_specs

if TYPE_CHECKING:
    from statsig_python_core.statsig_types import DynamicConfig, Layer

    from flagport.events.model import Event
    from flagport.user import User

__all__ = ["StatsigProvider"]

logger = logging.getLogger("flagport.statsig")

#: Key of the converted user in ``User.provider_cache``; the conversion does not
#: depend on any option, so every statsig provider shares it.
_CACHE_KEY = "flagport_statsig.user"
_OFFLINE_SECRET = "secret-flagport-offline"
_NO_GATE_EXPOSURE = FeatureGateEvaluationOptions(disable_exposure_logging=True)
_NO_EXPERIMENT_EXPOSURE = ExperimentEvaluationOptions(disable_exposure_logging=True)
_NO_CONFIG_EXPOSURE = DynamicConfigEvaluationOptions(disable_exposure_logging=True)
_NO_LAYER_EXPOSURE = LayerEvaluationOptions(disable_exposure_logging=True)
_MAX_CACHED_RESULTS = 10_000

# Every SDK object this process created and has not shut down. Keeping them referenced
# means that after fork() the child never drops (and so never finalises, flushes or
# joins the threads of) an SDK inherited from its parent: the child starts its own.
_pinned: dict[int, Any] = {}


class StatsigProvider(Provider):
    """Gates, experiments and dynamic configs from Statsig.

    Construction validates the options and starts nothing; :meth:`start` creates the
    SDK and waits up to ``init_timeout_ms`` for definitions.
    """

    name = "statsig"
    Options = StatsigOptions
    logs_own_exposures = True
    options: StatsigOptions

    def __init__(self, options: StatsigOptions) -> None:
        super().__init__(options)
        self._secret = self._check_secret(options)
        check_urls(options)
        self._bootstrap_json: str | None = None
        self._rules: RuleIndex = {}
        self._values = ValueIndex()  # what tells a rule's values apart (result keys)
        if options.bootstrap is not None:
            self._bootstrap_json, data = load_bootstrap(options.bootstrap)
            self._rules, self._values = build_rule_index(data), build_value_index(data)
        elif options.offline:
            raise ConfigurationError(
                "the statsig provider is offline but has no definitions",
                [
                    (
                        Location("options", "bootstrap"),
                        "set bootstrap to a config-specs JSON file or dict "
                        "(FLAGPORT_STATSIG_BOOTSTRAP=specs.json, or bootstrap in [statsig] "
                        "of flagport.toml), or set offline=false",
                    )
                ],
            )
        self._lock = threading.Lock()
        self._sdk: Any = None
        self._guard: EgressGuard | None = None  # the SDK's only way out (custom URLs)
        self._gates: frozenset[str] = frozenset()
        self._experiments: frozenset[str] = frozenset()
        self._configs: frozenset[str] = frozenset()
        self._layers: frozenset[str] = frozenset()
        self._ready = False
        self._results: Memo[tuple[Any, ...], Any] = Budget(_MAX_CACHED_RESULTS).memo()
        self._spec_updates = 0
        self._specs: Specs | None = None  # the last update's, to tell what the next changes
        self._init_source: str | None = None
        self._check: Callable[..., bool] = _not_started

    @staticmethod
    def _check_secret(options: StatsigOptions) -> str:
        if options.offline:
            return _OFFLINE_SECRET
        secret = options.server_secret.get_secret_value() if options.server_secret else ""
        if not secret.strip():
            raise ConfigurationError(
                "the statsig provider needs a server secret",
                [
                    (
                        Location("options", "server_secret"),
                        "set server_secret (argument server_secret=..., environment "
                        "FLAGPORT_STATSIG_SERVER_SECRET, or server_secret in the [statsig] "
                        "table of flagport.toml), or run offline=true with a bootstrap",
                    )
                ],
            )
        return secret

    # -- lifecycle -------------------------------------------------------------------------
    def start(self) -> None:
        """Create the SDK and wait up to ``init_timeout_ms`` for definitions.

        Returns NOT_READY (evaluations raise ``ProviderNotReadyError``) when nothing
        loaded in time; the SDK keeps polling and the provider turns READY by itself.
        """
        with self._lock:
            if self._sdk is not None:
                return
            urls = private_urls(self.options)
            self._guard = EgressGuard(urls) if urls else None
            port = None if self._guard is None else self._guard.port
            sdk = Statsig(self._secret, sdk_options(self.options, self._bootstrap_json, port))
            _pinned[id(sdk)] = sdk
            reset_in_child(self, StatsigProvider._after_fork_in_child)
            sdk.subscribe("specs_updated", self._on_specs_updated)
            future = sdk.initialize_with_details()
            details = None
            try:
                details = future.result(timeout=self.options.init_timeout_ms / 1000)
            except concurrent.futures.TimeoutError:
                logger.warning(
                    "flagport-statsig: no definitions within init_timeout_ms=%d; serving "
                    "defaults with PROVIDER_NOT_READY until they arrive",
                    self.options.init_timeout_ms,
                )
            except Exception as exc:  # the SDK reporting a failure
                logger.warning("flagport-statsig: initialisation did not finish: %s", exc)
            self._sdk = sdk
            # The SDK's own method bound to the instance: skips the Python error-boundary
            # wrapper the SDK puts on every instance (which prints errors and returns
            # None); flagport's client turns exceptions into defaults itself.
            self._check = StatsigBasePy.check_gate.__get__(sdk, Statsig)
            if details is not None:
                self._init_source = details.source
                if details.is_config_spec_ready:
                    self._ready = True
                elif details.failure_details is not None:
                    logger.warning(
                        "flagport-statsig: no definitions yet (%s); serving defaults with "
                        "PROVIDER_NOT_READY until they arrive",
                        masked_whole(str(details.failure_details.reason)),
                    )
            self._refresh_names()

    def _on_specs_updated(self, event: Any) -> None:
        # Runs on an SDK thread whenever new definitions were loaded.
        data = event.get("data") if isinstance(event, dict) else None
        values = data.get("values") if isinstance(data, dict) else None
        specs = values if isinstance(values, dict) else None
        indexes = None if specs is None else (build_rule_index(specs), build_value_index(specs))

        def swap() -> set[str] | None:
            if indexes is not None:
                self._rules, self._values = indexes
            self._results.budget.clear()
            self._spec_updates += 1
            self._ready = True
            self._refresh_names()
            previous, self._specs = self._specs, specs
            return changed_specs(previous, specs)

        # The SDK fires no update for a sync that found nothing new.
        self.publish_definitions(swap)

    def _refresh_names(self) -> None:
        sdk = self._sdk
        if sdk is None:
            return
        gates = frozenset(Statsig.get_feature_gate_list(sdk) or ())
        experiments = frozenset(Statsig.get_experiment_list(sdk) or ())
        # A layer is served as a config: its value is the layer's parameters.
        self._layers = frozenset(Statsig.get_layer_list(sdk) or ())
        configs = frozenset(Statsig.get_dynamic_config_list(sdk) or ()) | self._layers
        self._gates, self._experiments, self._configs = gates, experiments, configs
        if gates or experiments or configs:
            self._ready = True
        if self._ready and self.status is ProviderStatus.NOT_READY:
            self.status = ProviderStatus.READY

    def _after_fork_in_child(self) -> None:
        # The SDK's threads did not survive the fork and any lock may have been held by
        # one of them: forget the inherited SDK (it stays pinned, never finalised here)
        # and start afresh if start() is called again (the flagport client builds a new
        # provider instead).
        self._lock = threading.Lock()
        self._specs = None
        self._sdk = None
        if self._guard is not None:
            self._guard.forget_after_fork()
            self._guard = None
        self._check = _not_started
        self._gates = self._experiments = self._configs = frozenset()
        self._ready = False
        self._results = Budget(_MAX_CACHED_RESULTS).memo()  # a clear would take a lock
        if self.status is not ProviderStatus.SHUT_DOWN:
            self.status = ProviderStatus.NOT_READY

    def flush(self, timeout: float = 5.0) -> None:
        sdk = self._sdk
        if sdk is None:
            return
        done = Statsig.flush_events(sdk)
        if done is not None:
            done.wait(timeout)

    def shutdown(self, timeout: float = 5.0) -> None:
        """Deliver queued events and stop the SDK; returns within ``timeout`` seconds."""
        with self._lock:
            # The next start builds a new SDK, ready on what that one loads.
            sdk, self._sdk = self._sdk, None
            guard, self._guard = self._guard, None
            self._gates = self._experiments = self._configs = frozenset()
            self._ready = False
            self._check = _not_started
            self.status = ProviderStatus.SHUT_DOWN
        if sdk is None:
            return  # an SDK inherited through fork() was forgotten by the fork reset

        def stop() -> None:
            try:
                Statsig.unsubscribe_all(sdk)
                done = Statsig.shutdown(sdk)
                if done is not None:
                    done.wait(timeout)
                _pinned.pop(id(sdk), None)
                # The SDK's wrapper keeps methods bound to the instance in its __dict__: a
                # cycle only the garbage collector frees, possibly after the SDK's atexit
                # hook, when releasing our log callback prints a GIL warning on stderr.
                vars(sdk).clear()
            except Exception:
                logger.exception("flagport-statsig: SDK shutdown failed")
            if guard is not None:
                guard.close()  # after the SDK's last delivery of events

        # The SDK call is quick in every case observed; the thread only guarantees
        # that a stuck runtime cannot hang the application's exit.
        worker = threading.Thread(target=stop, name="flagport-statsig-shutdown", daemon=True)
        worker.start()
        worker.join(timeout)

    # -- names and errors ----------------------------------------------------------------------
    def names(self) -> FlagNames:
        return FlagNames(self._gates, self._experiments, self._configs)

    def _missing(self, name: str, kind: FlagKind) -> None:
        """Called when ``name`` is not among the known names of ``kind``; raises unless
        a refresh (definitions that changed a moment ago) finds it."""
        if self._sdk is None:
            raise ProviderNotReadyError("the statsig provider is not started or was shut down")
        self._refresh_names()
        known = {
            FlagKind.GATE: self._gates,
            FlagKind.EXPERIMENT: self._experiments,
            FlagKind.CONFIG: self._configs,
        }
        if name in known[kind]:
            return
        if not self._ready:
            raise ProviderNotReadyError(
                "statsig has not loaded any definitions yet (unreachable, or a wrong "
                "server_secret); serving defaults until it does"
            )
        for other, names in known.items():
            if other is not kind and name in names:
                raise TypeMismatchError(
                    f"{name!r} is a statsig {other.value}, not {with_article(kind.value)}"
                )
        raise FlagNotFoundError(f"statsig has no {kind.value} named {name!r}")

    def _reason(self, name: str, rule_id: str, details: str) -> Reason:
        if "Recognized" not in details or "Unrecognized" in details:
            if "Unrecognized" in details:
                raise FlagNotFoundError(f"statsig has no flag named {name!r}")
            raise ProviderNotReadyError(f"statsig could not evaluate {name!r} ({details})")
        if details.startswith("LocalOverride"):
            return Reason.OVERRIDE
        special = SPECIAL_RULES.get(rule_id)
        if special is not None:
            return special
        return self._rules.get((name, rule_id), Reason.TARGETING_MATCH)

    def _remember(self, key: tuple[Any, ...], result: Any) -> None:
        # Keys include the definitions' time (lcut), so a result built from old
        # definitions is never served for new ones, even between an update and the
        # callback that clears this cache.
        self._results.put(key, result)

    # -- evaluation ---------------------------------------------------------------------------
    def _user(self, user: User) -> Any:
        converted = to_statsig_user(user)
        user.provider_cache[_CACHE_KEY] = converted
        return converted

    def check_gate(self, user: User, name: str, *, expose: bool = True) -> bool:
        su = user.provider_cache.get(_CACHE_KEY) or self._user(user)
        if name not in self._gates:
            self._missing(name, FlagKind.GATE)
        if expose:
            return self._check(su, name)
        return self._check(su, name, _NO_GATE_EXPOSURE)

    def evaluate_gate(self, user: User, name: str, *, expose: bool = True) -> GateResult:
        su = user.provider_cache.get(_CACHE_KEY) or self._user(user)
        if name not in self._gates:
            self._missing(name, FlagKind.GATE)
        gate = Statsig.get_feature_gate(self._sdk, su, name, None if expose else _NO_GATE_EXPOSURE)
        value, rule_id, details = bool(gate.value), gate.rule_id, gate.details.reason
        key = (FlagKind.GATE, name, value, rule_id, details, gate.details.lcut)
        result = self._results.get(key)
        if result is None:
            result = GateResult(
                name=name,
                value=value,
                reason=self._reason(name, rule_id, details),
                rule_id=rule_id or None,
                provider=self.name,
            )
            self._remember(key, result)
        return result

    def evaluate_experiment(
        self, user: User, name: str, *, expose: bool = True
    ) -> ExperimentResult:
        su = user.provider_cache.get(_CACHE_KEY) or self._user(user)
        if name not in self._experiments:
            self._missing(name, FlagKind.EXPERIMENT)
        exp = Statsig.get_experiment(
            self._sdk, su, name, None if expose else _NO_EXPERIMENT_EXPOSURE
        )
        group, rule_id, details = exp.group_name, exp.rule_id, exp.details.reason
        value = exp.get_value()
        # A rule's units outside its pass percentage get the default under the same
        # rule id (and group): the key tells the values apart.
        told = self._values.tell(name, rule_id, exp.details, value)
        key = (FlagKind.EXPERIMENT, name, group, rule_id, details, exp.details.lcut, told)
        result = self._results.get(key)
        if result is None:
            reason = self._reason(name, rule_id, details)
            result = ExperimentResult(
                name=name,
                group=group,
                value=freeze(value) if value else None,
                in_experiment=group is not None and reason is Reason.SPLIT,
                reason=reason,
                rule_id=rule_id or None,
                provider=self.name,
            )
            self._remember(key, result)
        return result

    def evaluate_config(self, user: User, name: str, *, expose: bool = True) -> ConfigResult:
        su = user.provider_cache.get(_CACHE_KEY) or self._user(user)
        if name not in self._configs:
            self._missing(name, FlagKind.CONFIG)
        cfg: Layer | DynamicConfig
        if name in self._layers:
            cfg = Statsig.get_layer(self._sdk, su, name, None if expose else _NO_LAYER_EXPOSURE)
        else:
            cfg = Statsig.get_dynamic_config(
                self._sdk, su, name, None if expose else _NO_CONFIG_EXPOSURE
            )
        rule_id, details = cfg.rule_id, cfg.details.reason
        value = cfg.get_value()
        told = self._values.tell(name, rule_id, cfg.details, value)
        key = (FlagKind.CONFIG, name, rule_id, details, cfg.details.lcut, told)
        result = self._results.get(key)
        if result is None:
            result = ConfigResult(
                name=name,
                value=freeze(value) if value else None,
                reason=self._reason(name, rule_id, details),
                rule_id=rule_id or None,
                provider=self.name,
            )
            self._remember(key, result)
        return result

    # -- events ---------------------------------------------------------------------------------
    def log_event(self, event: Event) -> None:
        """Send a custom event; a manual exposure goes through the SDK's manual exposure API.

        Automatic exposures are not re-sent: the SDK logs them itself when it evaluates.
        """
        sdk = self._sdk
        if sdk is None:
            raise ProviderNotReadyError("the statsig provider is not started or was shut down")
        user = event.user
        su = user.provider_cache.get(_CACHE_KEY) or self._user(user)
        if self.options.offline:
            warn_once(
                "offline-events",
                "flagport-statsig: offline, so events are not sent to Statsig (flagport's "
                "other event sinks still receive them)",
            )
        if event.kind is EventKind.CUSTOM:
            Statsig.log_event(sdk, su, event.name, event.value, event_metadata(event.metadata))
            return
        if not event.metadata.get("manual"):
            return
        if event.flag_kind is FlagKind.GATE:
            Statsig.manually_log_gate_exposure(sdk, su, event.name)
        elif event.flag_kind is FlagKind.CONFIG:
            Statsig.manually_log_dynamic_config_exposure(sdk, su, event.name)
        elif event.flag_kind is FlagKind.EXPERIMENT:
            Statsig.manually_log_experiment_exposure(sdk, su, event.name)
        else:
            raise GeneralError(f"exposure {event.name!r} has no flag kind")

    def stats(self) -> dict[str, Any]:
        return {
            "ready": self._ready,
            "init_source": self._init_source,
            "spec_updates": self._spec_updates,
            "gates": len(self._gates),
            "experiments": len(self._experiments),
            "configs": len(self._configs),
        }

    def describe(self) -> dict[str, Any]:
        info = super().describe()
        if isinstance(self.options.bootstrap, dict):
            info["options"]["bootstrap"] = (
                f"<config specs, {len(json.dumps(self.options.bootstrap))} bytes>"
            )
        return info


def _not_started(*args: Any) -> bool:
    raise ProviderNotReadyError("the statsig provider is not started or was shut down")
