"""The interface every provider implements.

Only the three resolvers are abstract; lifecycle and events default to no-ops, as in
OpenFeature's provider ABC. Providers signal failure by raising a
:class:`~flagport.FlagportError` subclass (``FlagNotFoundError`` for an unknown
flag); the :class:`~flagport.Flagport` client turns that into a default result, or
re-raises it in strict mode. A provider serves new definitions (a reload, a vendor sync)
through :meth:`Provider.publish_definitions`, which announces the ones that are a change
(see :mod:`flagport._publications`), as an OpenFeature provider emits
``PROVIDER_CONFIGURATION_CHANGED``.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING, Any, ClassVar

from pydantic import (
    BaseModel,
    ConfigDict,
    SerializerFunctionWrapHandler,
    field_validator,
    model_serializer,
)

from flagport._publications import Publications, Swap
from flagport._redact import MaskedDict, declare_option_models, mask, protect, release
from flagport._runs import Run, ends_run, once_per_run
from flagport.results import ConfigResult, ExperimentResult, GateResult, JsonValue

if TYPE_CHECKING:
    from flagport.events.model import Event
    from flagport.user import User

__all__ = ["DefinitionsChanged", "FlagNames", "Provider", "ProviderOptions", "ProviderStatus"]


class ProviderOptions(BaseModel):
    """Base of every provider's options model.

    Subclasses declare fields with descriptions; secrets are ``pydantic.SecretStr``.
    Unknown options are an error, so a typo never goes unnoticed. Validation errors
    never quote the input; the repr, every dump and the printed form of a table (the
    inner providers of a migration, an OpenFeature factory's keyword arguments) mask
    secret-named keys. A provider reads its options' attributes, which keep the values.
    """

    model_config = ConfigDict(extra="forbid", frozen=True, hide_input_in_errors=True)

    @field_validator("*", mode="after")
    @classmethod
    def _masked_tables(cls, value: Any) -> Any:
        return MaskedDict(value) if type(value) is dict else value

    @model_serializer(mode="wrap")
    def _masked_dump(self, handler: SerializerFunctionWrapHandler) -> Any:
        return mask(handler(self))

    def __repr_args__(self) -> Any:
        return mask(dict(super().__repr_args__())).items()


declare_option_models(ProviderOptions)


class ProviderStatus(StrEnum):
    """Lifecycle state of a provider, in OpenFeature's vocabulary."""

    NOT_READY = "NOT_READY"
    READY = "READY"
    STALE = "STALE"
    ERROR = "ERROR"
    SHUT_DOWN = "SHUT_DOWN"


@dataclass(frozen=True, slots=True)
class FlagNames:
    """The flags a provider knows, by kind."""

    gates: frozenset[str] = frozenset()
    experiments: frozenset[str] = frozenset()
    configs: frozenset[str] = frozenset()

    def of(self, kind: str) -> frozenset[str]:
        """The names of one kind: ``"gate"``, ``"experiment"`` or ``"config"``.

        :raises ValueError: ``kind`` is none of those.
        """
        if kind == "gate":
            return self.gates
        if kind == "experiment":
            return self.experiments
        if kind == "config":
            return self.configs
        raise ValueError(f"unknown flag kind {kind!r}; use 'gate', 'experiment' or 'config'")

    def __or__(self, other: FlagNames) -> FlagNames:
        """The flags either knows."""
        return FlagNames(
            self.gates | other.gates,
            self.experiments | other.experiments,
            self.configs | other.configs,
        )


@dataclass(frozen=True, slots=True)
class DefinitionsChanged:
    """A provider's definitions changed while it ran: a reload, or a vendor sync that
    brought new definitions (not what its start loaded, which makes it ready).

    :ivar provider: the name of the provider that announced it.
    :ivar flags: the flags whose definitions were added, removed or edited, when the
        provider can tell; ``None`` when it cannot (any flag may answer differently).
    """

    provider: str
    flags: frozenset[str] | None = None

    def merged(self, earlier: DefinitionsChanged | None) -> DefinitionsChanged:
        """This change and an ``earlier`` one of the same provider not delivered yet, as one."""
        if earlier is None:
            return self
        if self.flags is None or earlier.flags is None:
            return DefinitionsChanged(self.provider, None)
        return DefinitionsChanged(self.provider, earlier.flags | self.flags)


class Provider(ABC):
    """A source of answers for gates, experiments and configs.

    Construction must be cheap and start nothing (no thread, no socket): the client
    calls :meth:`start` lazily on first use in each process, and after ``fork()`` it
    builds a fresh provider from the same options instead of touching the parent's.

    :cvar name: the name users select the provider by (``provider="local"``).
    :cvar Options: the pydantic model of the provider's options.
    :cvar logs_own_exposures: True when the vendor SDK sends exposures itself, so the
        client does not forward its exposure events to :meth:`log_event`.
    """

    name: ClassVar[str]
    Options: ClassVar[type[ProviderOptions]] = ProviderOptions
    logs_own_exposures: ClassVar[bool] = False

    def __init__(self, options: ProviderOptions) -> None:
        self.options = options
        # Its secrets are redacted from every log record until shutdown() releases them.
        protect(self, options)
        self.status = ProviderStatus.NOT_READY
        #: Call it with an exposure/custom :class:`Event` the vendor reported through a
        #: callback, so it reaches flagport's sinks and observers (see :meth:`attach`).
        self.emit: Callable[[Event], None] = _ignore
        self._hear_change: Callable[[DefinitionsChanged], None] = _ignore
        self._publications = Publications()
        self._run = Run()

    def __init_subclass__(cls, **kwargs: Any) -> None:
        # Every provider's start and shutdown keep to one run at a time (flagport._runs).
        super().__init_subclass__(**kwargs)
        for name, guard in (("start", once_per_run), ("shutdown", ends_run)):
            if name in vars(cls):
                setattr(cls, name, guard(vars(cls)[name]))

    @classmethod
    def from_options(cls, **options: Any) -> Provider:
        """Validate ``options`` against :attr:`Options` and build the provider."""
        return cls(cls.Options.model_validate(options))

    # -- lifecycle ---------------------------------------------------------------
    def attach(self, emit: Callable[[Event], None]) -> None:
        """Called by the client that owns this provider, before :meth:`start`.

        Override to pass ``emit`` on (a composite provider attaches its parts); call
        ``super().attach(emit)``.

        :param emit: delivers an event the vendor reported through a callback to the
            client's sinks and observers; from now on :attr:`emit` calls it. The caller
            owns the provider: it calls :meth:`mark_serving` once it answers from it.
            What the provider published before (a start by hand) is what it serves then.
        """
        self.emit = emit
        self._publications.own()

    def attach_changes(self, listener: Callable[[DefinitionsChanged], None]) -> None:
        """Called by the client that owns this provider, after :meth:`attach`: from now
        on :meth:`announce_change` hands ``listener`` what changed.

        A composite provider listens to its parts in its :meth:`attach` (with its own
        :meth:`announce_change`), so it need not override this.

        :param listener: takes a :class:`DefinitionsChanged`; it returns at once and
            never raises (the client runs the application's callbacks on a thread of
            its own).
        """
        self._hear_change = listener

    def publish_definitions(self, swap: Swap) -> None:
        """Serve new definitions, and announce them when they are a change.

        ``swap`` makes them the definitions evaluations read (one assignment, so an
        evaluation sees the old ones or the new ones) and returns the flags added, removed
        or edited against the ones it replaced, or ``None`` when it cannot tell
        (:func:`flagport._changes.changed_names` compares two mappings of name to
        definition). It runs under a lock that also orders :meth:`mark_serving`: keep it
        to the assignments and the diff. What the provider publishes before whoever answers
        from it marks it (:meth:`mark_serving`: within ``start()``, or before a client
        took the provider) is what the application starts with: not announced. After a
        start that published nothing (defaults were served), the first definitions are
        announced naming every flag of :meth:`names`. A swap that finds nothing changed
        announces nothing.
        """
        self.announce_change(self._publications.publish(swap, self.names))

    def mark_serving(self) -> None:
        """Called by whoever answers from this provider (the client, after :meth:`start`
        returned and before it answers an evaluation from it): the definitions published
        until now are what the application starts with; every later publication is a change.

        Only owners mark, never ``start()``: code driving a provider without a client
        calls it once ``start()`` returned. A composite provider overrides it to mark its
        parts too, calling ``super()``.
        """
        self._publications.mark()

    def announce_change(self, flags: Iterable[str] | None = None) -> None:
        """Hand a change to the client's listener now, as it is: a provider serving its
        own definitions calls :meth:`publish_definitions` instead, which decides whether
        they are a change. This is for passing on what a part (a side of a composite
        provider) announced, or a change of another kind (a migration moving a flag to its
        other side).

        :param flags: the flags added, removed or edited; ``None`` when unknown. None of
            them (an empty collection) is no change, and nothing is announced.
        """
        changed = None if flags is None else frozenset(flags)
        if changed is None or changed:
            self._hear_change(DefinitionsChanged(self.name, changed))

    def detach(self) -> None:
        """Called when the client lets go of this provider (after :meth:`shutdown`, started
        or not): :attr:`emit` ignores events, :meth:`announce_change` reaches no one, the
        provider is no longer served (:meth:`mark_serving`; a later start is a first start),
        and its secrets are no longer redacted from log records. An override calls
        ``super().detach()``."""
        self.emit = _ignore
        self._hear_change = _ignore
        self._publications.disown()
        release(self)

    def _begin_run(self) -> None:
        """A run begins (:mod:`flagport._runs`): after a shutdown the provider is
        ``NOT_READY`` again, and what its start loads makes it ready."""
        if self.status is ProviderStatus.SHUT_DOWN:
            self.status = ProviderStatus.NOT_READY

    @once_per_run
    def start(self) -> None:
        """Load definitions, open connections. Called once per process, lazily.

        Once per run: a second call before :meth:`shutdown` (by hand, then by a client
        given the provider) changes nothing; it returns at once, or raises what the first
        one raised while the provider is not ready. After :meth:`shutdown` it starts a
        fresh run, which serves again: the provider is ``NOT_READY`` when it begins, and
        builds anew what the shutdown stopped (a vendor SDK object, a thread, a stop event).
        The base class guards every override so (:mod:`flagport._runs`); an override need
        not.

        Must return within the provider's configured start-up timeout; a provider that
        cannot load yet stays ``NOT_READY`` (evaluations raise
        ``ProviderNotReadyError``) and may become ready later.
        """
        self.status = ProviderStatus.READY

    @ends_run
    def shutdown(self, timeout: float = 5.0) -> None:
        """Deliver queued events and release resources, within ``timeout`` seconds.

        Must be idempotent and must never hang. It ends the run: stop every thread and
        connection the start opened and drop what cannot be started twice (a vendor SDK
        object, a stop event now set), so that a later :meth:`start` runs afresh with
        nothing of this run left behind.
        """
        self.status = ProviderStatus.SHUT_DOWN

    def flush(self, timeout: float = 5.0) -> None:  # noqa: B027 - optional hook
        """Deliver queued events to the vendor now (best effort, bounded by ``timeout``)."""

    # -- evaluation ----------------------------------------------------------------
    def check_gate(self, user: User, name: str, *, expose: bool = True) -> bool:
        """The gate's value alone. Override to skip building a result on the hot path."""
        return self.evaluate_gate(user, name, expose=expose).value

    @abstractmethod
    def evaluate_gate(self, user: User, name: str, *, expose: bool = True) -> GateResult:
        """Evaluate a gate.

        :param expose: False when the caller asked not to log an exposure.
        :raises FlagNotFoundError: the provider does not know the gate.
        """

    @abstractmethod
    def evaluate_experiment(
        self, user: User, name: str, *, expose: bool = True
    ) -> ExperimentResult:
        """Assign the user in an experiment.

        :raises FlagNotFoundError: the provider does not know the experiment.
        """

    @abstractmethod
    def evaluate_config(self, user: User, name: str, *, expose: bool = True) -> ConfigResult:
        """Resolve a dynamic config.

        :raises FlagNotFoundError: the provider does not know the config.
        """

    def names(self) -> FlagNames:
        """Every flag the provider currently knows, for ``evaluate_all`` and the CLI."""
        return FlagNames()

    def experiment_groups(self, name: str) -> Mapping[str, JsonValue] | None:
        """The groups the definitions give an experiment, each with its value.

        A group forced without a value (the pytest plugin's markers) serves this one.

        :returns: group name -> value, in definition order; ``None`` when the provider
            cannot tell (it holds no definitions of groups, or none of this experiment).
        """
        return None

    # -- events ------------------------------------------------------------------
    def log_event(self, event: Event) -> None:  # noqa: B027 - optional hook
        """Send an event (custom, or an exposure flagport recorded) to the vendor.

        Called off the request path, from the event pipeline's worker thread.
        """

    def stats(self) -> dict[str, Any]:
        """Provider-specific counters for ``Flagport.stats()`` (JSON-ready, no secrets)."""
        return {}

    def describe(self) -> dict[str, Any]:
        """Options and state for ``flagport providers`` and ``stats()``; no secrets."""
        options = mask(self.options.model_dump(mode="json"))
        return {"status": self.status.value, "options": options}


def _ignore(event: object) -> None:
    return None
