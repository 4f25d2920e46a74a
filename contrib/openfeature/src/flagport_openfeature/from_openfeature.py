"""OpenFeature -> flagport: the flagport provider ``openfeature``, backed by OpenFeature.

Gates are boolean flags, configs object flags, experiments object flags whose
variant is the group. Two ways to drive a provider:

* **direct** (``of_provider`` without ``domain``): flagport owns the provider; it
  calls ``initialize`` at start, the resolvers on each evaluation and ``shutdown``
  at shutdown, and nothing is registered with the OpenFeature API.
* **through the OpenFeature API** (``domain``): evaluations go through
  ``openfeature.api.get_client(domain)``, so the application's API-level hooks and
  evaluation context apply. With ``of_provider`` too, flagport registers it under the
  domain at start and unbinds it at shutdown; alone, flagport uses whatever provider
  the application registered for that domain and never starts or stops it.

Its provider's ``PROVIDER_CONFIGURATION_CHANGED`` events, and its becoming ready, are
publications (:meth:`flagport.Provider.publish_definitions`): flagport's one rule decides
which are a change, as for every provider.
"""

from __future__ import annotations

import contextlib
import logging
import threading
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from openfeature import api
from openfeature.event import ProviderEvent, ProviderEventDetails
from openfeature.exception import OpenFeatureError
from openfeature.provider.no_op_provider import NoOpProvider
from openfeature.track import TrackingEventDetails

from flagport._redact import mask, redact
from flagport.errors import (
    ConfigurationError,
    FlagportError,
    GeneralError,
    ProviderNotReadyError,
    TypeMismatchError,
    shown,
)
from flagport.events.model import EventKind
from flagport.imports import import_object
from flagport.provider import FlagNames, Provider, ProviderStatus
from flagport.results import ConfigResult, ExperimentResult, FrozenDict, GateResult, freeze
from flagport_openfeature._convert import error_for_code, reason_from_of, user_to_context
from flagport_openfeature.options import OpenFeatureOptions

if TYPE_CHECKING:
    from openfeature.client import OpenFeatureClient
    from openfeature.provider import FeatureProvider

    from flagport.events.model import Event
    from flagport.user import User

__all__ = ["OpenFeatureProvider"]

logger = logging.getLogger("flagport.openfeature")

# What an event of a directly driven OpenFeature provider says about its state.
_EVENT_STATUS = {
    ProviderEvent.PROVIDER_READY: ProviderStatus.READY,
    ProviderEvent.PROVIDER_CONFIGURATION_CHANGED: ProviderStatus.READY,
    ProviderEvent.PROVIDER_STALE: ProviderStatus.STALE,
    ProviderEvent.PROVIDER_ERROR: ProviderStatus.ERROR,
}

# Handed to the OpenFeature provider as the object default: when it comes back (by
# identity) the provider had no value, and flagport's caller default applies.
_NO_VALUE: dict[str, Any] = {}
# The defaults handed to the typed resolvers, in the order of OpenFeatureProvider._scalars.
_SCALAR_DEFAULTS: tuple[Any, ...] = (False, "", 0, 0.0)
# What every resolution (FlagResolutionDetails, or the client's FlagEvaluationDetails) has.
_DETAILS_FIELDS = ("value", "variant", "reason", "error_code", "error_message", "flag_metadata")
_JSON_LEAVES = (str, int, float, bool, type(None))


def build_of_provider(spec: Any, options: Mapping[str, Any]) -> FeatureProvider:
    """The OpenFeature provider an ``of_provider`` option describes.

    :param spec: an import path ``package.module:attr``, a factory (class or function)
        or a provider instance.
    :param options: keyword arguments for a factory.
    :raises ConfigurationError: the path does not import, or the result is not an
        OpenFeature provider.
    """
    target = spec
    if isinstance(spec, str):
        try:
            target = import_object(spec)
        except (ImportError, AttributeError) as exc:
            raise ConfigurationError(
                f"openfeature provider option of_provider={spec!r} does not import: "
                f"{type(exc).__name__}: {exc}; give 'package.module:factory'"
            ) from exc
    if not _is_provider(target):
        try:
            target = target(**options)
        except Exception as exc:
            raise ConfigurationError(
                f"openfeature provider option of_provider={spec!r}: calling the factory "
                f"with of_provider_options={mask(dict(options))!r} failed: "
                f"{type(exc).__name__}: {exc}"
            ) from exc
    if not _is_provider(target):
        raise ConfigurationError(
            f"openfeature provider option of_provider={spec!r} gave "
            f"{type(target).__name__}, which is not an OpenFeature provider (it has no "
            f"resolve_boolean_details); point it at a provider class or factory"
        )
    return target  # type: ignore[no-any-return]


def _is_provider(obj: Any) -> bool:
    return not isinstance(obj, type) and callable(getattr(obj, "resolve_boolean_details", None))


class OpenFeatureProvider(Provider):
    """flagport answered by an OpenFeature provider (flagd, LaunchDarkly, in-memory...)."""

    name = "openfeature"
    Options = OpenFeatureOptions
    options: OpenFeatureOptions
    # OpenFeature has no exposure API: providers that record evaluations do so when
    # they evaluate, so flagport's exposure events stay with flagport's own sinks.
    logs_own_exposures = True

    def __init__(self, options: OpenFeatureOptions) -> None:
        super().__init__(options)
        self._names = FlagNames(
            frozenset(options.gates), frozenset(options.experiments), frozenset(options.configs)
        )
        self._include_private = options.include_private
        self._of: FeatureProvider | None = None
        self._owned = False
        self._client: OpenFeatureClient | None = None
        self._boolean: Callable[..., Any] | None = None
        self._object: Callable[..., Any] | None = None
        self._scalars: tuple[Callable[..., Any], ...] = ()
        self._scalar_kind: dict[str, int] = {}  # flag -> index in _scalars that resolved it
        self._track: Callable[..., Any] | None = None
        self._init_done = threading.Event()
        self._lock = threading.Lock()
        self.init_error: str | None = None

    # -- lifecycle ---------------------------------------------------------------------
    def start(self) -> None:
        """Build the OpenFeature provider, initialize (or register) it, bounded by
        ``init_timeout``.

        :raises ConfigurationError: ``of_provider`` does not give a provider.
        :raises GeneralError: its initialization failed (evaluations are still
            attempted, as OpenFeature does for a provider in ERROR).
        """
        opts = self.options
        with self._lock:
            of = None
            if opts.of_provider is not None:
                of = build_of_provider(opts.of_provider, opts.of_provider_options)
            self._of, self._owned = of, of is not None
            work: Callable[[], None] | None = None
            if opts.domain is None:
                assert of is not None  # the options require one of the two
                self._boolean, self._object, self._track = (
                    of.resolve_boolean_details,
                    of.resolve_object_details,
                    of.track,
                )
                self._scalars = (
                    of.resolve_boolean_details,
                    of.resolve_string_details,
                    of.resolve_integer_details,
                    of.resolve_float_details,
                )
                self._client = None
                # flagport stands in for OpenFeature's registry: the provider reports
                # READY / STALE / ERROR through the callback it is attached to.
                of.attach(self._on_event)

                def work() -> None:
                    of.initialize(api.get_evaluation_context())
            else:
                client = api.get_client(opts.domain)
                self._client = client
                # The domain's provider, whoever registered it, announces its changes.
                client.add_handler(ProviderEvent.PROVIDER_CONFIGURATION_CHANGED, self._changed)
                self._boolean, self._object, self._track = (
                    client.get_boolean_details,
                    client.get_object_details,
                    client.track,
                )
                self._scalars = (
                    client.get_boolean_details,
                    client.get_string_details,
                    client.get_integer_details,
                    client.get_float_details,
                )
                if of is not None:
                    domain = opts.domain

                    def work() -> None:
                        api.set_provider_and_wait(of, domain)

            self._init_done.clear()
            self.init_error = None
            if work is None:
                self.status = ProviderStatus.READY
                self.publish_definitions(self._serve)  # the domain's provider answers
                return
            threading.Thread(
                target=self._initialize, args=(work,), name="flagport-openfeature-init", daemon=True
            ).start()
        if not self._init_done.wait(opts.init_timeout):
            logger.warning(
                "flagport: the OpenFeature provider did not initialize within %.1fs; "
                "evaluations serve defaults (PROVIDER_NOT_READY) until it does",
                opts.init_timeout,
            )
            return
        if self.init_error is not None:
            raise GeneralError(f"the OpenFeature provider failed to initialize: {self.init_error}")

    def _initialize(self, work: Callable[[], None]) -> None:
        try:
            work()
        except Exception as exc:
            message = getattr(exc, "error_message", None) or str(exc)
            # Shown by stats(): the provider's message may quote its key.
            self.init_error = redact(f"{type(exc).__name__}: {message}")
            if self.status is not ProviderStatus.SHUT_DOWN:
                self.status = ProviderStatus.ERROR
        else:
            if self.status is not ProviderStatus.SHUT_DOWN:
                self.status = ProviderStatus.READY
            # Within start(): what the application starts with. After a start that gave
            # up waiting: the first definitions, a change naming every flag of names().
            self.publish_definitions(self._serve)
        finally:
            self._init_done.set()

    def _serve(self) -> tuple[str, ...]:
        """The swap of a publication saying the OpenFeature provider answers: evaluations
        go to it from now on. Its definitions live in it: no flag is known to change."""
        self._init_done.set()
        return ()

    def _on_event(self, provider: Any, event: ProviderEvent, details: ProviderEventDetails) -> None:
        if provider is not self._of:
            return
        if event is ProviderEvent.PROVIDER_CONFIGURATION_CHANGED:
            self._changed(details)
        status = _EVENT_STATUS.get(event)
        if status is None or not self._init_done.is_set():
            return
        if self.status is not ProviderStatus.SHUT_DOWN:
            self.status = status
        if event is ProviderEvent.PROVIDER_ERROR:
            logger.warning(
                "flagport: the OpenFeature provider reports an error: %s", details.message
            )
        elif event is ProviderEvent.PROVIDER_READY:
            self.publish_definitions(self._serve)  # ready again, or at last

    def _changed(self, details: ProviderEventDetails) -> None:
        # Whether it is a change (not what the application starts with) is the base
        # class's rule. An event naming no flag still says the configuration changed:
        # any flag may.
        flags = details.flags_changed or None
        self.publish_definitions(lambda: flags)

    def shutdown(self, timeout: float = 5.0) -> None:
        """Shut an owned OpenFeature provider down (never longer than ``timeout``)."""
        with self._lock:
            of, owned, domain, client = self._of, self._owned, self.options.domain, self._client
            self._of, self._owned, self._client = None, False, None
            self._boolean = self._object = self._track = None
            self.status = ProviderStatus.SHUT_DOWN
        if client is not None:
            # Gone already when the application shut the OpenFeature API down first.
            with contextlib.suppress(ValueError):
                client.remove_handler(ProviderEvent.PROVIDER_CONFIGURATION_CHANGED, self._changed)
        if of is None or not owned:
            return
        if domain is not None:
            # OpenFeature shuts a replaced provider down itself, on its own thread.
            if api.get_client(domain).provider is of:
                api.set_provider(NoOpProvider(), domain)
            return
        of.detach()
        worker = threading.Thread(target=_quietly, args=(of.shutdown,), daemon=True)
        worker.start()
        worker.join(min(timeout, self.options.shutdown_timeout))
        if worker.is_alive():
            logger.warning("flagport: the OpenFeature provider's shutdown() did not finish in time")

    # -- evaluation --------------------------------------------------------------------
    def _details(
        self, resolve: Callable[..., Any] | None, name: str, default: Any, user: User
    ) -> Any:
        if resolve is None or not self._init_done.is_set():
            state = "shut down" if self.status is ProviderStatus.SHUT_DOWN else "not ready"
            raise ProviderNotReadyError(f"the openfeature provider is {state}")
        context = user_to_context(user, include_private=self._include_private)
        try:
            details = resolve(name, default, context)
        except OpenFeatureError as exc:
            raise error_for_code(exc.error_code, exc.error_message) from exc
        except FlagportError:
            raise
        except Exception as exc:
            raise GeneralError(f"OpenFeature provider failed on {name!r}: {exc}") from exc
        if not all(hasattr(details, field) for field in _DETAILS_FIELDS):
            raise GeneralError(
                f"the OpenFeature provider answered {type(details).__name__} for {name!r}, "
                "not resolution details (value, variant, reason...): a bug in that provider"
            )
        if details.error_code is not None:
            raise error_for_code(details.error_code, details.error_message)
        return details

    def evaluate_gate(self, user: User, name: str, *, expose: bool = True) -> GateResult:
        details = self._details(self._boolean, name, False, user)
        value = details.value
        if not isinstance(value, bool):
            raise TypeMismatchError(f"{name!r} is not a boolean flag (value {shown(value)})")
        return GateResult(
            name=name,
            value=value,
            reason=reason_from_of(details.reason),
            rule_id=_rule_id(details),
            provider=self.name,
        )

    def evaluate_experiment(
        self, user: User, name: str, *, expose: bool = True
    ) -> ExperimentResult:
        details = self._value_details(name, user)
        reason = reason_from_of(details.reason)
        flagged = _metadata(details).get("in_experiment")
        variant = details.variant if isinstance(details.variant, str) else None
        in_experiment = (
            flagged if isinstance(flagged, bool) else details.reason == "SPLIT"
        ) and variant is not None
        return ExperimentResult(
            name=name,
            group=variant,
            value=_value(details.value, name),
            in_experiment=in_experiment,
            reason=reason,
            rule_id=_rule_id(details),
            provider=self.name,
        )

    def _value_details(self, name: str, user: User) -> Any:
        """Resolve an experiment's or config's value of any type.

        Object first; a provider (or OpenFeature's client) that checks types answers
        TYPE_MISMATCH for a string, number or boolean flag, so the typed resolvers are
        tried next, remembering per flag which one resolved it.
        """
        known = self._scalar_kind.get(name)
        if known is not None and known < len(self._scalars):
            try:
                return self._details(self._scalars[known], name, _SCALAR_DEFAULTS[known], user)
            except TypeMismatchError:
                self._scalar_kind.pop(name, None)
        try:
            return self._details(self._object, name, _NO_VALUE, user)
        except TypeMismatchError:
            if not self._scalars:
                raise
        for index, resolve in enumerate(self._scalars):
            try:
                details = self._details(resolve, name, _SCALAR_DEFAULTS[index], user)
            except TypeMismatchError:
                continue
            self._scalar_kind[name] = index
            return details
        raise TypeMismatchError(f"{name!r} resolves as no OpenFeature type flagport knows")

    def evaluate_config(self, user: User, name: str, *, expose: bool = True) -> ConfigResult:
        details = self._value_details(name, user)
        return ConfigResult(
            name=name,
            value=_value(details.value, name),
            reason=reason_from_of(details.reason),
            rule_id=_rule_id(details),
            provider=self.name,
        )

    def names(self) -> FlagNames:
        """The names given in the ``gates``/``experiments``/``configs`` options."""
        return self._names

    # -- events ------------------------------------------------------------------------
    def log_event(self, event: Event) -> None:
        """``track(name, context, TrackingEventDetails(value, metadata))``.

        A string value goes to the attributes as ``value`` (OpenFeature's is numeric);
        private attributes never go with an event.
        """
        track = self._track
        if track is None or event.kind is EventKind.EXPOSURE:
            return
        attributes: dict[str, Any] = dict(event.metadata)
        value = event.value
        if isinstance(value, str):
            attributes["value"] = value
            value = None
        context = user_to_context(event.user, include_private=False)
        track(event.name, context, TrackingEventDetails(value=value, attributes=attributes))

    # -- introspection -------------------------------------------------------------------
    def stats(self) -> dict[str, Any]:
        of = self._of
        if of is None and self._client is not None:
            of = self._client.provider
        return {
            "mode": "direct" if self.options.domain is None else "domain",
            "of_provider": of.get_metadata().name if of is not None else None,
            "initialized": self._init_done.is_set(),
            "init_error": self.init_error,
        }

    def describe(self) -> dict[str, Any]:
        options = mask(self.options.model_dump(mode="python", exclude={"of_provider"}))
        spec = self.options.of_provider
        options["of_provider"] = spec if spec is None or isinstance(spec, str) else repr(spec)
        return {"status": self.status.value, "options": options, "stats": self.stats()}


def _quietly(fn: Callable[[], Any]) -> None:
    try:
        fn()
    except Exception:
        logger.exception("flagport: the OpenFeature provider's shutdown() failed")


def _metadata(details: Any) -> Mapping[str, Any]:
    """The details' flag metadata (a mapping; anything else a provider sends is none)."""
    metadata = details.flag_metadata
    return metadata if isinstance(metadata, Mapping) else {}


def _json_like(value: Any) -> bool:
    """Whether frozen ``value`` holds JSON's types only (what OpenFeature's structures are)."""
    if isinstance(value, _JSON_LEAVES):
        return True
    if isinstance(value, Mapping):
        return all(isinstance(k, str) and _json_like(v) for k, v in value.items())
    return isinstance(value, tuple) and all(_json_like(v) for v in value)


def _rule_id(details: Any) -> str | None:
    rule = _metadata(details).get("rule_id")
    if isinstance(rule, str):
        return rule
    variant = details.variant
    return variant if isinstance(variant, str) else None


def _value(value: Any, name: str) -> Any:
    """The value served, frozen.

    :raises TypeMismatchError: it is not JSON (a set, bytes, an object): OpenFeature's
        values are JSON's, and flagport's results are written as JSON.
    """
    if value is _NO_VALUE:
        return None  # the flagport client serves the caller's default
    if isinstance(value, FrozenDict):
        frozen = value
    elif isinstance(value, Mapping):
        frozen = freeze(value)
    else:
        # Configs are mappings; a scalar or list flag is wrapped, as the GrowthBook and
        # FeatBit providers do, and the FlagportProvider unwraps for typed resolvers.
        frozen = freeze({"value": value})
    if not _json_like(frozen):
        raise TypeMismatchError(
            f"the OpenFeature provider's value for {name!r} is not JSON ({shown(value)}): "
            "flag values are objects, lists, strings, numbers, booleans or null"
        )
    return frozen
