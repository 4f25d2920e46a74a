"""The :class:`Flagport` client: one API in front of any provider.

Overrides live here, above the provider, so they behave the same for every vendor.
Evaluation never raises unless ``strict`` is on: a failure serves the default with
``reason=ERROR`` and the error code, logged once per flag.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Callable, Mapping
from contextlib import AbstractContextManager
from dataclasses import replace
from types import TracebackType
from typing import Any, NoReturn, Self, TypeVar, cast

from flagport import _lifecycle
from flagport.errors import (
    ConfigurationError,
    FlagNotFoundError,
    FlagportError,
    GeneralError,
    MissingUserError,
    ProviderNotReadyError,
    TypeMismatchError,
    describe,
    shown,
)
from flagport.events.exposures import ExposureDeduper
from flagport.events.model import Event, EventKind, FlagKind
from flagport.events.pipeline import EventPipeline, Record, record_event
from flagport.events.settings import EventSettings
from flagport.overrides import Overrides, global_overrides
from flagport.plugins import get_plugin_manager, get_provider_class
from flagport.provider import FlagNames, Provider, ProviderStatus
from flagport.reasons import ErrorCode, Reason
from flagport.results import (
    ConfigResult,
    Evaluations,
    ExperimentResult,
    FrozenDict,
    GateResult,
    Result,
    freeze,
)
from flagport.scope import Scope, current_scope, scope
from flagport.settings import Settings, load_settings, validate_options
from flagport.user import User, UserLike, as_user

__all__ = ["Flagport", "forget_exposures"]

logger = logging.getLogger("flagport")
R = TypeVar("R", GateResult, ExperimentResult, ConfigResult)
_EMPTY = FrozenDict()


class Flagport:
    """Feature gates, experiments, dynamic configs and events, from any provider.

    ``Flagport(provider="local", path="flags.yaml")`` selects a provider and passes it
    options; anything not given in code comes from the environment, ``flagport.toml``
    or ``[tool.flagport]`` in ``pyproject.toml``. Construction validates the options
    and starts nothing: the provider starts on first use, once per process (a forked
    child starts its own).

    :param provider: a provider name, or a ready :class:`~flagport.Provider` instance.
    :param strict: raise :class:`~flagport.FlagportError` instead of serving defaults.
    :param events: event settings (see the events documentation).
    :param options: the provider's options.
    """

    def __init__(
        self,
        provider: str | Provider | None = None,
        *,
        strict: bool | None = None,
        events: Mapping[str, Any] | None = None,
        **options: Any,
    ) -> None:
        if isinstance(provider, Provider):
            if options:
                raise TypeError("options cannot be given with a provider instance")
            self.settings = Settings(provider.name, strict=bool(strict), events=dict(events or {}))
            self._provider = provider
        else:
            self.settings = load_settings(provider, options, strict=strict, events=events)
            cls = get_provider_class(self.settings.provider)
            validated = validate_options(
                cls.Options,
                self.settings.options,
                self.settings.sources,
                f"provider {self.settings.provider!r}",
            )
            self._provider = cls(validated)
        self.strict = self.settings.strict
        self.overrides = Overrides(global_overrides)
        self.event_settings = validate_options(
            EventSettings,
            self.settings.events,
            {k: f"[events] {k}" for k in self.settings.events},
            "events",
        )
        self.exposures = ExposureDeduper(
            self.event_settings.exposure_window, self.event_settings.exposure_max_keys
        )
        self.events = EventPipeline(self.event_settings, lambda: self.provider)
        # Plain attribute counters: the cheapest thing on the hot path (a lost increment
        # under heavy thread contention is acceptable for these statistics).
        self._n_gates = self._n_experiments = self._n_configs = self._n_errors = 0
        self._gate_overrides = self.overrides.gates
        self._exposures_logged = 0
        self._lock = threading.RLock()
        self._started = False
        self._closed = False
        self._forked = False
        # True until started, and while observers need whole results: check_gate then
        # takes the get_gate path. One attribute test on the hot path.
        self._gate_slow = True
        self._provider_check_gate: Callable[..., bool] = self._provider.check_gate
        self._pid = os.getpid()
        self._logged_failures: set[tuple[str, str, ErrorCode]] = set()
        self._after_evaluation: Any = None
        self._on_event: Any = None
        self._on_provider_error: Any = None
        # Resolved now too, not only at start: a value served by an override never
        # starts the provider, yet observers must see it.
        self._resolve_observers()
        self._wire_provider(self._provider)
        _lifecycle.register(self)

    @classmethod
    def from_settings(cls, **overrides: Any) -> Flagport:
        """A client configured only from the environment and settings files.

        Keyword arguments take precedence, exactly as in the constructor.
        """
        return cls(**overrides)

    # -- lifecycle ---------------------------------------------------------------
    @property
    def provider(self) -> Provider:
        """The provider answering this client's calls (started if it was not yet)."""
        return self._provider if self._started else self._start()

    @property
    def provider_name(self) -> str:
        return self._provider.name

    def _wire_provider(self, provider: Provider) -> None:
        provider.attach(self._emit)

    def _resolve_observers(self) -> None:
        # Once, not per call, so that a hook nobody implements costs nothing; again at
        # start, for plugins registered after construction.
        hook = get_plugin_manager().hook
        self._after_evaluation = (
            hook.flagport_after_evaluation
            if hook.flagport_after_evaluation.get_hookimpls()
            else None
        )
        self._on_event = hook.flagport_on_event if hook.flagport_on_event.get_hookimpls() else None
        self._on_provider_error = (
            hook.flagport_on_provider_error
            if hook.flagport_on_provider_error.get_hookimpls()
            else None
        )

    def _start(self) -> Provider:
        with self._lock:
            if self._started:
                return self._provider
            if self._closed:
                raise ProviderNotReadyError("this flagport client was shut down")
            self._resolve_observers()
            if self._forked:
                self._forked = False
                old = self._provider
                self._provider = type(old)(old.options)
                self._wire_provider(self._provider)
            try:
                self._provider.start()
            except Exception as exc:
                self._provider.status = ProviderStatus.ERROR
                if self.strict:
                    _raise_strict(
                        exc,
                        f"provider {self._provider.name!r} failed to start",
                        ProviderNotReadyError,
                    )
                logger.error(
                    "flagport: provider %r failed to start (%s); serving defaults",
                    self._provider.name,
                    describe(exc),
                )
                self._report_provider_error(None, exc)
            self._provider_check_gate = self._provider.check_gate
            self._started = True
            self._gate_slow = self._after_evaluation is not None
            return self._provider

    def _after_fork_in_child(self) -> None:
        # Runs inside os.fork(): only plain assignments, nothing that can fail. The
        # parent's provider is never touched here (its threads do not exist in this
        # process); _start() builds a fresh one from the same options on first use.
        self._lock = threading.RLock()
        self._started = False
        self._gate_slow = True
        self._forked = True
        self._pid = os.getpid()
        self.exposures = ExposureDeduper(self.exposures.window, self.exposures.max_keys)
        self.events.after_fork_in_child()

    def flush(self, timeout: float = 5.0) -> bool:
        """Deliver queued events to every sink and the vendor, within ``timeout`` seconds.

        :returns: False if some sink did not finish in time.
        """
        deadline = time.monotonic() + timeout
        delivered = self.events.flush(timeout)
        if self._started:
            self._guard(None, self._provider.flush, max(0.0, deadline - time.monotonic()))
        return delivered

    def shutdown(self, timeout: float = 5.0) -> None:
        """Flush and stop the provider. Safe to call more than once."""
        with self._lock:
            if self._closed:
                return
            deadline = time.monotonic() + timeout
            self.events.shutdown(timeout)
            self._closed = True
            if self._started:
                remaining = max(0.0, deadline - time.monotonic())
                self._guard(None, self._provider.shutdown, remaining)
            self._provider.status = ProviderStatus.SHUT_DOWN
            self._provider.detach()
            self._started = False
            self._gate_slow = True

    close = shutdown

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.shutdown()

    def __repr__(self) -> str:
        state = "closed" if self._closed else ("started" if self._started else "not started")
        return f"<Flagport provider={self._provider.name!r} strict={self.strict} {state}>"

    # -- failures ------------------------------------------------------------------
    def _guard(self, flag: str | None, fn: Any, *args: Any) -> Any:
        try:
            return fn(*args)
        except Exception as exc:
            if self.strict:
                _raise_strict(exc, f"{getattr(fn, '__name__', fn)} failed")
            logger.warning("flagport: %s failed: %s", getattr(fn, "__name__", fn), describe(exc))
            self._report_provider_error(flag, exc)
            return None

    def _report_provider_error(self, flag: str | None, exc: BaseException) -> None:
        if self._on_provider_error is not None:
            try:
                self._on_provider_error(provider=self._provider.name, flag=flag, error=exc)
            except Exception:
                logger.exception("flagport: an on_provider_error observer failed")

    def _failure(self, kind: str, name: str, exc: BaseException) -> tuple[ErrorCode, str]:
        """Turn a provider exception into an error code, or re-raise it in strict mode."""
        code = exc.code if isinstance(exc, FlagportError) else ErrorCode.GENERAL
        self._n_errors += 1
        message = describe(exc)
        # The caller's name can be anything (a list, a megabyte of text): log and remember
        # a short printable form of it.
        label = shown(name)
        if self.strict and not isinstance(exc, MissingUserError):
            _raise_strict(exc, f"{kind} {label}")
        key = (kind, label, code)
        if key not in self._logged_failures:
            if len(self._logged_failures) < 10_000:
                self._logged_failures.add(key)
            logger.warning(
                "flagport: %s %s served its default (%s): %s", kind, label, code.value, message
            )
        if code is not ErrorCode.FLAG_NOT_FOUND:
            self._report_provider_error(name, exc)
        return code, message

    def _error_result(
        self, result_type: type[R], kind: str, name: str, exc: Exception, value: Any
    ) -> R:
        """The default result served because evaluating ``name`` raised ``exc``."""
        code, message = self._failure(kind, name, exc)
        return result_type(
            name=name if isinstance(name, str) else shown(name),
            value=value,
            reason=Reason.ERROR,
            provider=self._provider.name,
            error_code=code,
            error_message=message,
        )

    def _user(self, user: UserLike) -> User:
        return user if type(user) is User else as_user(user)

    # -- gates -----------------------------------------------------------------------
    def check_gate(
        self, user: UserLike, name: str, *, default: bool = False, expose: bool = True
    ) -> bool:
        """Whether the gate passes for the user. Never raises unless ``strict``."""
        if self._gate_slow or self._gate_overrides.active or type(name) is not str:
            # Not started yet, overridden, observed or an odd name: those take the path
            # that builds the whole result.
            return self.get_gate(user, name, default=default, expose=expose).value
        self._n_gates += 1
        try:
            if type(user) is not User:
                user = as_user(user)
            if expose:
                return self._provider_check_gate(user, name)
            return self._provider_check_gate(user, name, expose=False)
        except Exception as exc:
            self._failure("gate", name, exc)
            return _gate_default(default)

    def get_gate(
        self, user: UserLike, name: str, *, default: bool = False, expose: bool = True
    ) -> GateResult:
        """The gate's value with its reason, rule and any error."""
        result: GateResult | None = None
        self._n_gates += 1
        try:
            if not isinstance(name, str):
                raise _not_a_name(name)
            user = self._user(user)
            if self.overrides.gates.active:
                result = self.overrides.gates.lookup(name, user.user_id)
            if result is None:
                provider = self._provider if self._started else self._start()
                result = provider.evaluate_gate(user, name, expose=expose)
        except Exception as exc:
            result = self._error_result(GateResult, "gate", name, exc, _gate_default(default))
        if self._after_evaluation is not None:
            self._observe(user, result, "gate")
        return result

    # -- experiments -----------------------------------------------------------------
    def get_experiment(
        self,
        user: UserLike,
        name: str,
        *,
        default: Mapping[str, Any] | None = None,
        expose: bool = True,
    ) -> ExperimentResult:
        """The user's group and its parameters; logs an exposure on first assignment."""
        result: ExperimentResult | None = None
        self._n_experiments += 1
        try:
            if not isinstance(name, str):
                raise _not_a_name(name)
            user = self._user(user)
            if self.overrides.experiments.active:
                result = self.overrides.experiments.lookup(name, user.user_id)
            if result is None:
                provider = self._provider if self._started else self._start()
                result = provider.evaluate_experiment(user, name, expose=expose)
            if cast(Any, result.value) is None:
                result = replace(result, value=_value(default))
        except Exception as exc:
            result = self._error_result(
                ExperimentResult, "experiment", name, exc, _value_or_empty(default)
            )
        else:
            exposable = result.in_experiment or result.reason is Reason.OVERRIDE
            if expose and exposable and result.group is not None:
                self._expose(user, result)
        if self._after_evaluation is not None:
            self._observe(user, result, "experiment")
        return result

    def _expose(self, user: User, result: ExperimentResult) -> None:
        group = result.group or ""
        active = current_scope()
        if (
            active is not None
            and active.user is user
            and not active.first_exposure(result.name, group)
        ):
            return
        if self.exposures.first_time(user.user_id or "", result.name, group):
            self._submit_exposure(
                user, result, FlagKind.EXPERIMENT, result.group, {"reason": result.reason.value}
            )

    def _submit_exposure(
        self,
        user: User,
        result: Result,
        flag_kind: FlagKind,
        group: str | None,
        metadata: dict[str, Any],
    ) -> None:
        self._exposures_logged += 1
        self._submit(
            (
                time.time(),
                EventKind.EXPOSURE,
                user,
                result.name,
                None,
                metadata,
                result.provider or self._provider.name,
                flag_kind,
                group,
                result.rule_id,
            )
        )

    def log_exposure(self, user: UserLike, name: str, *, kind: str = "experiment") -> None:
        """Log an exposure by hand, for an evaluation made with ``expose=False``.

        Manual exposures are not de-duplicated: the caller decides when one happened.
        """
        try:
            if not isinstance(name, str):
                raise _not_a_name(name)
            user = self._user(user)
            flag_kind = FlagKind(kind)
        except Exception as exc:
            self._failure("exposure", name, exc)
            return
        result: Result
        if flag_kind is FlagKind.EXPERIMENT:
            result = self.get_experiment(user, name, expose=False)
            group = result.group
        elif flag_kind is FlagKind.GATE:
            result = self.get_gate(user, name, expose=False)
            group = str(result.value).lower()
        else:
            result = self.get_config(user, name, expose=False)
            group = result.rule_id
        self._submit_exposure(
            user, result, flag_kind, group, {"reason": result.reason.value, "manual": True}
        )

    # -- configs -----------------------------------------------------------------------
    def get_config(
        self,
        user: UserLike,
        name: str,
        *,
        default: Mapping[str, Any] | None = None,
        expose: bool = True,
    ) -> ConfigResult:
        """The dynamic config's value for the user."""
        result: ConfigResult | None = None
        self._n_configs += 1
        try:
            if not isinstance(name, str):
                raise _not_a_name(name)
            user = self._user(user)
            if self.overrides.configs.active:
                result = self.overrides.configs.lookup(name, user.user_id)
            if result is None:
                provider = self._provider if self._started else self._start()
                result = provider.evaluate_config(user, name, expose=expose)
            if cast(Any, result.value) is None:
                result = replace(result, value=_value(default))
        except Exception as exc:
            result = self._error_result(ConfigResult, "config", name, exc, _value_or_empty(default))
        if self._after_evaluation is not None:
            self._observe(user, result, "config")
        return result

    # -- everything ---------------------------------------------------------------------
    def names(self) -> FlagNames:
        """Every flag the provider knows, plus every overridden one."""
        try:
            known = self.provider.names()
        except Exception as exc:
            if self.strict:
                _raise_strict(exc, "listing the provider's flags")
            self._report_provider_error(None, exc)
            known = FlagNames()
        gates, experiments, configs = self.overrides.names()
        return FlagNames(
            known.gates | gates, known.experiments | experiments, known.configs | configs
        )

    def evaluate_all(self, user: UserLike) -> Evaluations:
        """Evaluate every known gate, experiment and config for the user (no exposures).

        For a user that cannot be evaluated, the mappings are empty and the
        :class:`~flagport.results.Evaluations` carries the error (strict: raises it).
        """
        try:
            user = self._user(user)
        except Exception as exc:
            code, message = self._failure("evaluate_all", "(every flag)", exc)
            return Evaluations({}, {}, {}, error_code=code, error_message=message)
        known = self.names()
        return Evaluations(
            gates={n: self.get_gate(user, n, expose=False) for n in sorted(known.gates)},
            experiments={
                n: self.get_experiment(user, n, expose=False) for n in sorted(known.experiments)
            },
            configs={n: self.get_config(user, n, expose=False) for n in sorted(known.configs)},
        )

    # -- overrides -----------------------------------------------------------------------
    def override_gate(self, name: str, value: bool, *, user_id: str | None = None) -> None:
        """Force a gate, for everyone or for one user id.

        An override that cannot be stored (a name that is not a str, for example) is
        logged and ignored; ``strict`` raises :class:`~flagport.ConfigurationError`.
        """
        try:
            self.overrides.gate(name, value, user_id)
        except Exception as exc:
            self._refuse_override(exc)

    def override_experiment(
        self,
        name: str,
        group: str | None = None,
        value: Mapping[str, Any] | None = None,
        *,
        user_id: str | None = None,
    ) -> None:
        """Force an experiment's group and parameters, for everyone or one user id."""
        try:
            self.overrides.experiment(name, group, value, user_id)
        except Exception as exc:
            self._refuse_override(exc)

    def override_config(
        self, name: str, value: Mapping[str, Any], *, user_id: str | None = None
    ) -> None:
        """Force a dynamic config's value, for everyone or one user id."""
        try:
            self.overrides.config(name, value, user_id)
        except Exception as exc:
            self._refuse_override(exc)

    def _refuse_override(self, exc: Exception) -> None:
        if self.strict:
            _raise_strict(exc, "the override cannot be stored", ConfigurationError)
        logger.warning("flagport: override ignored: %s", describe(exc))

    def clear_overrides(self, name: str | None = None) -> None:
        """Remove every override, or only those of one flag."""
        self.overrides.clear(name)

    # -- events ------------------------------------------------------------------------------
    def log_event(
        self,
        user: UserLike,
        name: str,
        value: float | str | None = None,
        metadata: Mapping[str, Any] | None = None,
    ) -> None:
        """Log a custom event (``purchase``, ``signup``…) for the user.

        Returns at once: delivery happens in batches on background threads.
        """
        try:
            if not isinstance(name, str):
                raise TypeError(f"event names are str, got {type(name).__name__}")
            if type(user) is not User:
                user = as_user(user)
            if value is not None and type(value) is not float and type(value) is not str:
                value = _event_value(value)
            if metadata is not None and not isinstance(metadata, Mapping):
                raise TypeError(f"metadata must be a mapping, got {type(metadata).__name__}")
            data = dict(metadata) if metadata else {}
        except Exception as exc:
            if self.strict and not isinstance(exc, MissingUserError):
                raise GeneralError(f"invalid event {shown(name)}: {describe(exc)}") from exc
            logger.warning("flagport: event %s dropped: %s", shown(name), describe(exc))
            return
        self._submit(
            (
                time.time(),
                EventKind.CUSTOM,
                user,
                name,
                value,
                data,
                self._provider.name,
                None,
                None,
                None,
            )
        )

    def _submit(self, record: Record) -> None:
        if not self._started and not self._closed:
            self._start()
        entry = self.events.prepare(record)  # cut to the event bounds, for observers too
        if self._on_event is not None:
            try:
                self._on_event(event=record_event(entry[0]))
            except Exception:
                logger.exception("flagport: an on_event observer failed")
        self.events.submit(entry)

    def _emit(self, event: Event) -> None:
        """Accept an event a provider reported through a vendor callback."""
        if event.kind is EventKind.EXPOSURE:
            self._exposures_logged += 1
        self._submit(
            (
                event.time,
                event.kind,
                event.user,
                event.name,
                event.value,
                dict(event.metadata),
                event.provider,
                event.flag_kind,
                event.group,
                event.rule_id,
            )
        )

    def scope(self, user: UserLike | None) -> AbstractContextManager[Scope]:
        """``with fp.scope(user):`` — :func:`flagport.scope`, checked by this client.

        An invalid user opens a scope with no user (its shortcuts serve defaults with
        ``INVALID_CONTEXT``) and is logged; ``strict`` raises
        :class:`~flagport.InvalidContextError`.
        """
        if user is None or type(user) is User:
            return scope(user)
        try:
            return scope(self._user(user))
        except Exception as exc:
            self._failure("scope", "(every flag)", exc)
            return scope(None)

    def stats(self) -> dict[str, Any]:
        """Counters: evaluations, exposures, events per sink, and the provider's own."""
        provider = self._provider
        try:
            provider_stats = provider.stats()
        except Exception as exc:
            provider_stats = {"error": describe(exc)}
        return {
            "provider": {"name": provider.name, "status": provider.status.value, **provider_stats},
            "evaluations": {
                "gates": self._n_gates,
                "experiments": self._n_experiments,
                "configs": self._n_configs,
                "errors": self._n_errors,
            },
            "exposures": {"logged": self._exposures_logged, "remembered": len(self.exposures)},
            "events": self.events.stats(),
        }

    def _observe(self, user: Any, result: Result, kind: str) -> None:
        try:
            self._after_evaluation(user=user, result=result, kind=kind)
        except Exception:
            logger.exception("flagport: an after_evaluation observer failed")


def _value(default: Mapping[str, Any] | None) -> Mapping[str, Any]:
    """The value served for an experiment or config without one: the caller's default.

    Providers return ``value=None`` for "no value" (``passall``, errors).

    :raises TypeMismatchError: the default is not a mapping, or not JSON-like data
        (it refers to itself, or is nested too deep).
    """
    if default is None:
        return _EMPTY
    if not isinstance(default, Mapping):
        raise TypeMismatchError(
            f"the default is a mapping such as {{'color': 'blue'}}, got {type(default).__name__}"
        )
    try:
        return freeze(default) if default else _EMPTY
    except ValueError as exc:
        raise TypeMismatchError(f"the default cannot be served: {exc}") from None


def _value_or_empty(default: Mapping[str, Any] | None) -> Mapping[str, Any]:
    """:func:`_value`, or an empty mapping when the default itself cannot be served.

    Used on the failure path, which reports the first error, not this one.
    """
    try:
        return _value(default)
    except FlagportError:
        return _EMPTY


def _not_a_name(name: object) -> FlagNotFoundError:
    """No flag has a name that is not a str (a list, None, a number…)."""
    return FlagNotFoundError(f"flag names are str, got {type(name).__name__} {shown(name)}")


def _gate_default(default: Any) -> bool:
    """The caller's gate default as a bool (a value whose truth cannot be told is False)."""
    if default is True or default is False:
        return default
    try:
        return bool(default)
    except Exception:
        return False


def _raise_strict(
    exc: BaseException, context: str, wrapper: type[FlagportError] = GeneralError
) -> NoReturn:
    """Raise ``exc`` if it is a :class:`FlagportError`, else a ``wrapper`` around it.

    Strict mode raises only :class:`FlagportError` subclasses, whatever a provider raised.
    """
    if isinstance(exc, FlagportError):
        raise exc
    raise wrapper(f"{context}: {describe(exc)}") from exc


def _event_value(value: Any) -> float | str:
    """Numbers become floats (as every vendor stores them); anything else its string form.

    :raises TypeError: for a mapping or a collection, whose string form can be of any
        size (structured data belongs in the metadata).
    """
    if isinstance(value, int | float) and not isinstance(value, bool):
        return float(value)
    if isinstance(value, Mapping | list | tuple | set | frozenset):
        raise TypeError(
            f"an event value is a number or a str, got {type(value).__name__}; "
            "put structured data in metadata"
        )
    return str(value)


def forget_exposures() -> None:
    """Make every live client forget which exposures it logged.

    The next assignment of each (unit, experiment, group) is logged again; the pytest
    plugin calls this before each test so that tests do not depend on their order.
    """
    for client in _lifecycle.live_clients():
        client.exposures.clear()
