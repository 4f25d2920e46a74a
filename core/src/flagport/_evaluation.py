"""The one evaluation path of the client, for gates, experiments and configs alike.

Each client holds one :class:`Evaluator` per kind of flag, built once from the kind's
:class:`Kind` table; every evaluation goes through :meth:`Evaluator.evaluate`:
overrides, then the provider, then the caller's default for a missing value, then the
exposure (experiments), then the observers. A failure anywhere serves the default
with ``reason=ERROR`` and its error code (:class:`Failures`), or raises in strict mode.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any, Generic, NoReturn, TypeVar

from flagport.errors import (
    FlagNotFoundError,
    FlagportError,
    GeneralError,
    MissingUserError,
    TypeMismatchError,
    describe,
    shown,
)
from flagport.plugins import get_plugin_manager
from flagport.reasons import ErrorCode, Reason
from flagport.results import ConfigResult, ExperimentResult, FrozenDict, GateResult, freeze
from flagport.scope import _current as _scope
from flagport.user import User, UserLike, as_user

if TYPE_CHECKING:
    from flagport._client_events import ClientEvents
    from flagport._provider_lifecycle import ProviderLifecycle
    from flagport.events.model import Event
    from flagport.overrides import OverrideTable
    from flagport.provider import Provider
    from flagport.results import Result

__all__ = ["CONFIG", "EXPERIMENT", "GATE", "Evaluator", "Failures", "Kind", "Observers"]

logger = logging.getLogger("flagport")
R = TypeVar("R", GateResult, ExperimentResult, ConfigResult)
_EMPTY = FrozenDict()
#: Distinct (kind, flag, error code) failures logged; later ones are only counted.
_LOGGED_FAILURES = 10_000


class Observers:
    """The observer hooks some plugin implements, each a hook caller or ``None``.

    Resolved once, not per call, so that a hook nobody implements costs nothing;
    :meth:`refresh` again at start, for plugins registered after construction.
    """

    __slots__ = ("after_evaluation", "on_event", "on_provider_error")

    def __init__(self) -> None:
        self.refresh()

    def refresh(self) -> None:
        hook = get_plugin_manager().hook
        self.after_evaluation = _implemented(hook.flagport_after_evaluation)
        self.on_event = _implemented(hook.flagport_on_event)
        self.on_provider_error = _implemented(hook.flagport_on_provider_error)

    def evaluated(self, user: Any, result: Result, kind: str) -> None:
        try:
            self.after_evaluation(user=user, result=result, kind=kind)
        except Exception:
            logger.exception("flagport: an after_evaluation observer failed")

    def event(self, event: Event) -> None:
        try:
            self.on_event(event=event)
        except Exception:
            logger.exception("flagport: an on_event observer failed")

    def provider_error(self, provider: str, flag: str | None, error: BaseException) -> None:
        if self.on_provider_error is not None:
            try:
                self.on_provider_error(provider=provider, flag=flag, error=error)
            except Exception:
                logger.exception("flagport: an on_provider_error observer failed")


def _implemented(caller: Any) -> Any:
    return caller if caller.get_hookimpls() else None


class Failures:
    """What a failure becomes: raised in strict mode, else logged once per flag, counted
    and reported to the ``on_provider_error`` observers.

    :param strict: raise :class:`~flagport.FlagportError` subclasses instead.
    :param provider: the provider's name, for the observers.
    """

    __slots__ = ("_logged", "count", "observers", "provider", "strict")

    def __init__(self, strict: bool, provider: str, observers: Observers) -> None:
        self.strict = strict
        self.provider = provider
        self.observers = observers
        self.count = 0
        self._logged: set[tuple[str, str, ErrorCode]] = set()

    def served_default(self, kind: str, name: object, exc: BaseException) -> tuple[ErrorCode, str]:
        """The error code and message of a default served because of ``exc``.

        :raises FlagportError: in strict mode (a missing user is not a mistake: never).
        """
        code = exc.code if isinstance(exc, FlagportError) else ErrorCode.GENERAL
        self.count += 1
        message = describe(exc)
        # The caller's name can be anything (a list, a megabyte of text): log and remember
        # a short printable form of it.
        label = shown(name)
        if self.strict and not isinstance(exc, MissingUserError):
            raise_strict(exc, f"{kind} {label}")
        key = (kind, label, code)
        if key not in self._logged and not getattr(exc, "explained", False):
            if len(self._logged) < _LOGGED_FAILURES:
                self._logged.add(key)
            logger.warning(
                "flagport: %s %s served its default (%s): %s", kind, label, code.value, message
            )
        if code is not ErrorCode.FLAG_NOT_FOUND:
            self.report(name if isinstance(name, str) else None, exc)
        return code, message

    def report(self, flag: str | None, exc: BaseException) -> None:
        """Tell the ``on_provider_error`` observers."""
        self.observers.provider_error(self.provider, flag, exc)

    def guard(self, fn: Callable[..., Any], *args: Any) -> Any:
        """``fn(*args)``, or ``None`` with the failure logged and reported."""
        try:
            return fn(*args)
        except Exception as exc:
            what = getattr(fn, "__name__", fn)
            if self.strict:
                raise_strict(exc, f"{what} failed")
            logger.warning("flagport: %s failed: %s", what, describe(exc))
            self.report(None, exc)
            return None


def raise_strict(
    exc: BaseException, context: str, wrapper: type[FlagportError] = GeneralError
) -> NoReturn:
    """Raise ``exc`` if it is a :class:`FlagportError`, else a ``wrapper`` around it.

    Strict mode raises only :class:`FlagportError` subclasses, whatever a provider raised.
    """
    if isinstance(exc, FlagportError):
        raise exc
    raise wrapper(f"{context}: {describe(exc)}") from exc


@dataclass(frozen=True, slots=True)
class Kind(Generic[R]):
    """What differs between gates, experiments and configs on the evaluation path.

    :ivar label: the kind's name in logs and for the observers.
    :ivar result: the result type.
    :ivar method: the provider's resolver.
    :ivar value_only: the provider's method answering the value alone, when the kind
        has one (the client's ``check_gate`` fast path).
    :ivar default: the caller's default as the value served.
    :ivar fallback: the same on the failure path, where it never raises.
    :ivar exposes: whether the client logs an exposure of an assignment.
    """

    label: str
    result: type[R]
    method: str
    value_only: str | None
    default: Callable[[Any], Any]
    fallback: Callable[[Any], Any]
    exposes: bool


def not_a_name(name: object) -> FlagNotFoundError:
    """No flag has a name that is not a str (a list, None, a number…)."""
    return FlagNotFoundError(f"flag names are str, got {type(name).__name__} {shown(name)}")


def gate_default(default: Any) -> bool:
    """The caller's gate default as a bool (a value whose truth cannot be told is False)."""
    if default is True or default is False:
        return default
    try:
        return bool(default)
    except Exception:
        return False


def mapping_default(default: Mapping[str, Any] | None) -> Mapping[str, Any]:
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


def mapping_default_or_empty(default: Mapping[str, Any] | None) -> Mapping[str, Any]:
    """:func:`mapping_default`, or an empty mapping when the default cannot be served.

    Used on the failure path, which reports the first error, not this one.
    """
    try:
        return mapping_default(default)
    except FlagportError:
        return _EMPTY


GATE = Kind(
    label="gate",
    result=GateResult,
    method="evaluate_gate",
    value_only="check_gate",
    default=gate_default,
    fallback=gate_default,
    exposes=False,
)
EXPERIMENT = Kind(
    label="experiment",
    result=ExperimentResult,
    method="evaluate_experiment",
    value_only=None,
    default=mapping_default,
    fallback=mapping_default_or_empty,
    exposes=True,
)
CONFIG = Kind(
    label="config",
    result=ConfigResult,
    method="evaluate_config",
    value_only=None,
    default=mapping_default,
    fallback=mapping_default_or_empty,
    exposes=False,
)


class Evaluator(Generic[R]):
    """One client's evaluation path for one kind of flag.

    :ivar resolve: the started provider's resolver for the kind, else ``None``.
    :ivar value_only: the started provider's value-only method, while no observer
        needs whole results, else ``None``.
    :ivar count: evaluations made (a lost increment under heavy thread contention is
        acceptable for this statistic; a lock is not, on the hot path).
    """

    __slots__ = (
        "_default",
        "_exposes",
        "_fallback",
        "count",
        "failures",
        "kind",
        "lifecycle",
        "observers",
        "overrides",
        "recorder",
        "resolve",
        "sticky",
        "value_only",
    )

    def __init__(
        self,
        kind: Kind[R],
        overrides: OverrideTable[R],
        lifecycle: ProviderLifecycle,
        failures: Failures,
        recorder: ClientEvents,
    ) -> None:
        self.kind: Kind[R] = kind
        self.overrides: OverrideTable[R] = overrides
        self.lifecycle = lifecycle
        self.failures = failures
        self.observers = failures.observers
        self.recorder = recorder
        self._default = kind.default
        self._fallback = kind.fallback
        self._exposes = kind.exposes
        self.count = 0
        self.resolve: Callable[..., R] | None = None
        self.value_only: Callable[..., Any] | None = None
        #: The client's :class:`~flagport.sticky.engine.Stickiness` (experiments only).
        self.sticky: Any = None

    def bind(self, provider: Provider | None) -> None:
        """Answer from ``provider`` now that it started (``None``: it stopped)."""
        method, value_only = self.kind.method, self.kind.value_only
        self.resolve = getattr(provider, method) if provider is not None else None
        # Observers need whole results: no value-only answers while there are any.
        if provider is not None and value_only and self.observers.after_evaluation is None:
            self.value_only = getattr(provider, value_only)
        else:
            self.value_only = None

    def evaluate(self, user: UserLike, name: str, default: Any, expose: bool) -> R:
        """The flag's result for the user; never raises unless strict."""
        self.count += 1
        result: R | None = None
        try:
            if not isinstance(name, str):
                raise not_a_name(name)
            if type(user) is not User:
                user = as_user(user)
            overrides = self.overrides
            if overrides.active:
                result = overrides.lookup(name, user.user_id)
            if result is None:
                resolve = self.resolve
                if resolve is None:  # not started (or shut down)
                    resolve = getattr(self.lifecycle.require(), self.kind.method)
                result = resolve(user, name, expose=expose)
            sticky = self.sticky
            if sticky is not None:
                # The hot path inline (a call costs as much as the rest of it): a stored
                # group this request's scope resolved against this same result already.
                # (Same user object: users are frozen, so the same unit.)
                active = _scope.get()
                hit = None
                if active is not None and active.user is user and active.sticky_served:
                    hit = active.sticky_served.get((sticky, name))
                if hit is not None and hit[0] is result:
                    sticky.served += 1
                    result = hit[1]
                else:
                    result = sticky.apply(user, name, result)
            if result.value is None:
                result = replace(result, value=self._default(default))
        except Exception as exc:
            result = self.failed(name, exc, default)
        else:
            if expose and self._exposes:
                self.recorder.expose_assignment(user, result)  # type: ignore[arg-type]
        if self.observers.after_evaluation is not None:
            self.observers.evaluated(user, result, self.kind.label)
        return result

    def failed(self, name: object, exc: BaseException, default: Any) -> R:
        """The default served because evaluating ``name`` raised ``exc`` (strict: raise)."""
        code, message = self.failures.served_default(self.kind.label, name, exc)
        result: R = self.kind.result(
            name=name if isinstance(name, str) else shown(name),
            value=self._fallback(default),
            reason=Reason.ERROR,
            provider=self.failures.provider,
            error_code=code,
            error_message=message,
        )
        return result
