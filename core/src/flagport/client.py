"""The :class:`Flagport` client: one API in front of any provider.

Overrides live here, above the provider, so they behave the same for every vendor.
Evaluation never raises unless ``strict`` is on: a failure serves the default with
``reason=ERROR`` and the error code, logged once per flag. Evaluation is synchronous
and in memory; what waits (start, flush, close) also has an async form that never
blocks the event loop, and an evaluation on an event loop's thread never waits for a
provider still starting (see :mod:`flagport._provider_lifecycle`). The work is done by
collaborators, one concern each: :mod:`flagport._evaluation` (the one evaluation path
and the failure policy), :mod:`flagport._provider_lifecycle` (starting, rebuilding
after fork and stopping the provider) and :mod:`flagport._client_events` (exposures
and events).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any, Self

from flagport import _lifecycle
from flagport._changes import ChangeListeners, ChangeSubscription
from flagport._client_events import ClientEvents, event_value
from flagport._evaluation import (
    CONFIG,
    EXPERIMENT,
    GATE,
    Evaluator,
    Failures,
    Observers,
    gate_default,
    not_a_name,
    raise_strict,
)
from flagport._lifecycle import forget_exposures
from flagport._provider_lifecycle import ProviderLifecycle, on_event_loop_thread
from flagport.errors import (
    ConfigurationError,
    GeneralError,
    MissingUserError,
    describe,
    shown,
)
from flagport.events.exposures import ExposureDeduper
from flagport.events.kinds import EventKind, FlagKind
from flagport.events.pipeline import EventPipeline
from flagport.events.settings import EventSettings
from flagport.overrides import Overrides, global_overrides
from flagport.plugins import get_plugin_manager, get_provider_class
from flagport.provider import DefinitionsChanged, FlagNames, Provider
from flagport.results import ConfigResult, Evaluations, ExperimentResult, GateResult, Result
from flagport.scope import ContextBinding, Scope, scope
from flagport.settings import Settings, check_arguments, load_settings, validate_options
from flagport.user import User, UserLike, as_user

if TYPE_CHECKING:
    from flagport.results import JsonValue
    from flagport.sticky.engine import Stickiness

__all__ = ["Flagport", "forget_exposures"]


logger = logging.getLogger("flagport")


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
    :param sticky: sticky-assignment settings, e.g. ``{"store": "sqlite", "path":
        "assignments.db"}`` (see the sticky assignments documentation).
    :param options: the provider's options.
    """

    def __init__(
        self,
        provider: str | Provider | None = None,
        *,
        strict: bool | None = None,
        events: Mapping[str, Any] | None = None,
        sticky: Mapping[str, Any] | None = None,
        **options: Any,
    ) -> None:
        if isinstance(provider, Provider):
            if options:
                raise TypeError("options cannot be given with a provider instance")
            check_arguments(None, strict, events)
            self.settings = Settings(provider.name, strict=bool(strict), events=dict(events or {}))
        else:
            self.settings = load_settings(provider, options, strict=strict, events=events)
            cls = get_provider_class(self.settings.provider)
            validated = validate_options(
                cls.Options,
                self.settings.options,
                self.settings.sources,
                f"provider {self.settings.provider!r}",
            )
            provider = cls(validated)
        self.strict = self.settings.strict
        self.overrides = Overrides(global_overrides)
        table = self.settings.events
        # No [events] settings: the defaults, which need no validation (nor the model built).
        self.event_settings = (
            validate_options(EventSettings, table, self.settings.event_sources, "events").set_by(
                self.settings.event_sources
            )
            if table
            else EventSettings.model_construct()
        )
        self.events = EventPipeline(self.event_settings, lambda: self.provider)
        # Resolved now, not only at start: a value served by an override never starts the
        # provider, yet observers must see it.
        # Plugins register the observers their settings sections ask for first.
        get_plugin_manager().hook.flagport_configure(settings=self.settings)
        self._observers = Observers()
        self._failures = Failures(self.strict, provider.name, self._observers)
        self._sticky: Stickiness | None = None
        self._changes = ChangeListeners()
        self._lifecycle = ProviderLifecycle(
            provider, self._emit, self._failures, self._answer_from, self._changes.deliver
        )
        self._recorder = ClientEvents(
            self.events, self.event_settings, self._lifecycle, self._observers
        )
        self._gates = Evaluator(
            GATE, self.overrides.gates, self._lifecycle, self._failures, self._recorder
        )
        self._experiments = Evaluator(
            EXPERIMENT, self.overrides.experiments, self._lifecycle, self._failures, self._recorder
        )
        self._configs = Evaluator(
            CONFIG, self.overrides.configs, self._lifecycle, self._failures, self._recorder
        )
        if sticky or self.settings.sections.given("sticky"):
            # Only then: the sticky settings, stores, engine and asyncio cost a cold start.
            from flagport.sticky.settings import build_store

            chosen = build_store(sticky, self.settings.sections.get("sticky"))
            if chosen is not None:
                from flagport.sticky.engine import Stickiness

                self._sticky = self._experiments.sticky = Stickiness(chosen[1], chosen[0])
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
        """The provider answering this client's calls (started if it was not yet: on an
        event loop, ``await fp.start()`` first)."""
        return self._lifecycle.start()

    @property
    def provider_name(self) -> str:
        return self._failures.provider

    @property
    def exposures(self) -> ExposureDeduper:
        """The exposures logged within the de-duplication window."""
        return self._recorder.exposures

    @property
    def _provider(self) -> Provider:
        # The provider as it is, started or not (tests and diagnostics read it).
        return self._lifecycle.provider

    @property
    def _started(self) -> bool:
        return self._lifecycle.started

    def _answer_from(self, provider: Provider | None) -> None:
        for evaluator in (self._gates, self._experiments, self._configs):
            evaluator.bind(provider)
        if self._sticky is not None:
            self._sticky.bind(provider)

    def on_change(self, callback: Callable[[DefinitionsChanged], object]) -> ChangeSubscription:
        """Call ``callback(change)`` whenever the provider's definitions change (a reload,
        a vendor sync), on a thread of flagport's, never an evaluation's; an exception
        it raises is logged. Returns a handle: ``.unsubscribe()`` stops it.
        """
        return self._changes.subscribe(callback)

    def _emit(self, event: Any) -> None:
        """Accept an event a provider reported through a vendor callback."""
        self._recorder.emit(event)

    def _after_fork_in_child(self) -> None:
        # Runs inside os.fork() (see flagport._lifecycle): plain assignments only.
        self._lifecycle.after_fork_in_child()
        self._recorder.after_fork_in_child()
        if self._sticky is not None:
            self._sticky.after_fork_in_child()

    def flush(self, timeout: float = 5.0) -> bool:
        """Deliver queued events to every sink and the vendor, within ``timeout`` seconds.

        :returns: False if some sink did not finish in time.
        """
        deadline = time.monotonic() + timeout
        delivered = self.events.flush(timeout)
        if self._sticky is not None:
            delivered = self._sticky.flush(max(0.0, deadline - time.monotonic())) and delivered
        self._lifecycle.flush(max(0.0, deadline - time.monotonic()))
        return delivered

    def shutdown(self, timeout: float = 5.0) -> None:
        """Flush and stop the provider. Safe to call more than once."""
        self._lifecycle.shutdown(timeout, before=self.events.shutdown)
        self._changes.close()
        if self._sticky is not None:
            self._sticky.shutdown(timeout)
        _lifecycle.unregister(self)

    close = shutdown

    @property
    def closed(self) -> bool:
        """Whether :meth:`shutdown` was called."""
        return self._lifecycle.closed

    async def start(self) -> None:
        """Start the provider without blocking the event loop, and wait until it started.

        The vendor SDK's start-up (its network round trips, its timeout) runs on a thread
        of its own. A provider that fails to start is logged and serves defaults;
        ``strict`` raises :class:`~flagport.ProviderNotReadyError`.
        """
        await self._lifecycle.wait_started(None)

    async def wait_ready(self, timeout: float | None = None) -> bool:
        """Start the provider without blocking the event loop; whether it is ready within
        ``timeout`` seconds (``None``: once its start finished). A start still running
        goes on in the background; evaluations serve defaults until it is ready."""
        return await self._lifecycle.wait_ready(timeout)

    async def aflush(self, timeout: float = 5.0) -> bool:
        """:meth:`flush` on a worker thread, so the event loop goes on meanwhile."""
        import asyncio  # only async programs pay for it

        return await asyncio.to_thread(self.flush, timeout)

    async def aclose(self, timeout: float = 5.0) -> None:
        """:meth:`shutdown` on a worker thread, so the event loop goes on meanwhile."""
        import asyncio

        await asyncio.to_thread(self.shutdown, timeout)

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.shutdown()

    def __repr__(self) -> str:
        name, state = self.provider_name, self._lifecycle.state
        return f"<Flagport provider={name!r} strict={self.strict} {state}>"

    # -- evaluation ----------------------------------------------------------------
    def check_gate(
        self, user: UserLike, name: str, *, default: bool = False, expose: bool = True
    ) -> bool:
        """Whether the gate passes for the user. Never raises unless ``strict``."""
        gates = self._gates
        value_only = gates.value_only
        if value_only is None or gates.overrides.active or type(name) is not str:
            # Not started yet, observed, overridden or an odd name: those take the one
            # evaluation path, which builds the whole result.
            return gates.evaluate(user, name, default, expose).value
        gates.count += 1
        try:
            if type(user) is not User:
                user = as_user(user)
            if expose:
                return value_only(user, name)  # type: ignore[no-any-return]
            return value_only(user, name, expose=False)  # type: ignore[no-any-return]
        except Exception as exc:
            self._failures.served_default("gate", name, exc)
            return gate_default(default)

    def get_gate(
        self, user: UserLike, name: str, *, default: bool = False, expose: bool = True
    ) -> GateResult:
        """The gate's value with its reason, rule and any error."""
        return self._gates.evaluate(user, name, default, expose)

    def get_experiment(
        self,
        user: UserLike,
        name: str,
        *,
        default: Mapping[str, Any] | None = None,
        expose: bool = True,
    ) -> ExperimentResult:
        """The user's group and its parameters; logs an exposure on first assignment."""
        return self._experiments.evaluate(user, name, default, expose)

    def get_config(
        self,
        user: UserLike,
        name: str,
        *,
        default: Mapping[str, Any] | None = None,
        expose: bool = True,
    ) -> ConfigResult:
        """The dynamic config's value for the user."""
        return self._configs.evaluate(user, name, default, expose)

    def log_exposure(self, user: UserLike, name: str, *, kind: str = "experiment") -> None:
        """Log an exposure by hand, for an evaluation made with ``expose=False``.

        Manual exposures are not de-duplicated: the caller decides when one happened.
        """
        try:
            if not isinstance(name, str):
                raise not_a_name(name)
            user = user if type(user) is User else as_user(user)
            flag_kind = FlagKind(kind)
        except Exception as exc:
            self._failures.served_default("exposure", name, exc)
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
        metadata = {"reason": result.reason.value, "manual": True}
        self._recorder.exposure(user, result, flag_kind, group, metadata)

    def names(self) -> FlagNames:
        """Every flag the provider knows, plus every overridden one."""
        try:
            known = self._lifecycle.require().names()
        except Exception as exc:
            if self.strict:
                raise_strict(exc, "listing the provider's flags")
            self._failures.report(None, exc)
            known = FlagNames()
        gates, experiments, configs = self.overrides.names()
        return known | FlagNames(frozenset(gates), frozenset(experiments), frozenset(configs))

    def evaluate_all(self, user: UserLike) -> Evaluations:
        """Evaluate every known gate, experiment and config for the user (no exposures).

        An invalid user: empty mappings and the error (strict: raises it). A provider not
        ready: ``PROVIDER_NOT_READY`` and only overridden flags (not "no flags defined").
        """
        try:
            user = user if type(user) is User else as_user(user)
        except Exception as exc:
            code, message = self._failures.served_default("evaluate_all", "(every flag)", exc)
            return Evaluations({}, {}, {}, error_code=code, error_message=message)
        known = self.names()
        unready, why = self._lifecycle.unready(wait=False)
        return Evaluations(
            gates={n: self.get_gate(user, n, expose=False) for n in sorted(known.gates)},
            experiments={
                n: self.get_experiment(user, n, expose=False) for n in sorted(known.experiments)
            },
            configs={n: self.get_config(user, n, expose=False) for n in sorted(known.configs)},
            error_code=unready,
            error_message=why,
        )

    # -- overrides -----------------------------------------------------------------------
    def override_gate(self, name: str, value: bool, *, user_id: str | None = None) -> None:
        """Force a gate, for everyone or for one user id.

        An override that cannot be stored (a name that is not a str, for example) is
        logged and ignored; ``strict`` raises :class:`~flagport.ConfigurationError`.
        """
        self._override(self.overrides.gate, name, value, user_id)

    def override_experiment(
        self,
        name: str,
        group: str | None = None,
        value: JsonValue = None,
        *,
        user_id: str | None = None,
    ) -> None:
        """Force an experiment's group and its value, for everyone or one user id."""
        self._override(self.overrides.experiment, name, group, value, user_id)

    def override_config(self, name: str, value: JsonValue, *, user_id: str | None = None) -> None:
        """Force a dynamic config's value (any JSON value), for everyone or one user id."""
        self._override(self.overrides.config, name, value, user_id)

    def _override(self, store: Callable[..., None], *args: Any) -> None:
        try:
            store(*args)
        except Exception as exc:
            if self.strict:
                raise_strict(exc, "the override cannot be stored", ConfigurationError)
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
                value = event_value(value)
            plain = metadata is None or type(metadata) is dict  # no costly ABC check
            if not plain and not isinstance(metadata, Mapping):
                raise TypeError(f"metadata must be a mapping, got {type(metadata).__name__}")
            data = dict(metadata) if metadata else {}
        except Exception as exc:
            if self.strict and not isinstance(exc, MissingUserError):
                raise GeneralError(f"invalid event {shown(name)}: {describe(exc)}") from exc
            logger.warning("flagport: event %s dropped: %s", shown(name), describe(exc))
            return
        self._recorder.record(EventKind.CUSTOM, user, name, value, data)

    def scope(self, user: UserLike | None) -> ContextBinding[Scope]:
        """``with fp.scope(user):`` — :func:`flagport.scope`, checked by this client.

        An invalid user opens a scope with no user (its shortcuts serve defaults with
        ``INVALID_CONTEXT``) and is logged; ``strict`` raises
        :class:`~flagport.InvalidContextError`.
        """
        try:
            binding = scope(user if user is None or type(user) is User else as_user(user))
        except Exception as exc:
            self._failures.served_default("scope", "(every flag)", exc)
            return scope(None)
        sticky = self._sticky
        if sticky is not None:
            # ``with`` loads the unit's assignments now; ``async with`` off the loop.
            binding.aprefetch = sticky.aprefetch
            if not on_event_loop_thread():
                sticky.prefetch(binding._value)
        return binding

    def stats(self) -> dict[str, Any]:
        """Counters: evaluations, exposures, events per sink, and the provider's own."""
        provider = self._lifecycle.provider
        try:
            provider_stats = provider.stats()
        except Exception as exc:
            provider_stats = {"error": describe(exc)}
        return {
            "provider": {"name": provider.name, "status": provider.status.value, **provider_stats},
            "evaluations": {
                "gates": self._gates.count,
                "experiments": self._experiments.count,
                "configs": self._configs.count,
                "errors": self._failures.count,
            },
            "exposures": {
                "logged": self._recorder.exposures_logged,
                "remembered": len(self._recorder.exposures),
            },
            "events": self.events.stats(),
            **({"sticky": self._sticky.stats()} if self._sticky is not None else {}),
        }
