"""The client the ``flagport`` fixture hands a test: forcing and event assertions."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from flagport import (
    ConfigResult,
    ConfigurationError,
    Evaluations,
    Event,
    EventKind,
    ExperimentResult,
    FlagNames,
    FlagNotFoundError,
    Flagport,
    GateResult,
)
from flagport.overrides import global_overrides
from flagport.suggest import did_you_mean
from pytest_flagport.assertions import MISSING, find_events, mismatch_message
from pytest_flagport.capture import Capture

if TYPE_CHECKING:
    from flagport.results import JsonValue
    from flagport.user import UserLike

__all__ = ["FlagportFixture"]


class FlagportFixture:
    """What the ``flagport`` fixture gives a test: a client, forcing and event assertions.

    Its ``force_*`` methods pin values for every client in the process (:attr:`client`,
    the process-wide client behind ``flagport.check_gate`` and any client the
    application builds), until the test ends. :attr:`events` holds what every client
    logged during the test. It answers ``check_gate``/``get_*``/``log_event`` like a
    :class:`~flagport.Flagport`; :attr:`client` is the client itself, for code that
    wants one.

    :param client: the test's client (also the process-wide one during the test).
    :param capture: the running test's record.
    :param known: names forcing is checked against in strict mode; by default the
        provider's own names, when it knows any.
    :param known_source: where ``known`` came from, for messages.
    """

    def __init__(
        self,
        client: Flagport,
        capture: Capture,
        known: FlagNames | None = None,
        known_source: str | None = None,
    ) -> None:
        self.client = client
        self.capture = capture
        self._known = known
        self._known_source = known_source

    def __repr__(self) -> str:
        return f"<FlagportFixture {self.client!r}>"

    # -- the client's API -------------------------------------------------------------
    @property
    def strict(self) -> bool:
        return self.client.strict

    def check_gate(self, user: UserLike, name: str, **kwargs: Any) -> bool:
        """:meth:`Flagport.check_gate <flagport.Flagport.check_gate>` on :attr:`client`."""
        return self.client.check_gate(user, name, **kwargs)

    def get_gate(self, user: UserLike, name: str, **kwargs: Any) -> GateResult:
        """:meth:`Flagport.get_gate <flagport.Flagport.get_gate>` on :attr:`client`."""
        return self.client.get_gate(user, name, **kwargs)

    def get_experiment(self, user: UserLike, name: str, **kwargs: Any) -> ExperimentResult:
        """:meth:`Flagport.get_experiment <flagport.Flagport.get_experiment>`."""
        return self.client.get_experiment(user, name, **kwargs)

    def get_config(self, user: UserLike, name: str, **kwargs: Any) -> ConfigResult:
        """:meth:`Flagport.get_config <flagport.Flagport.get_config>` on :attr:`client`."""
        return self.client.get_config(user, name, **kwargs)

    def log_event(
        self,
        user: UserLike,
        name: str,
        value: float | str | None = None,
        metadata: Mapping[str, Any] | None = None,
    ) -> None:
        """:meth:`Flagport.log_event <flagport.Flagport.log_event>` on :attr:`client`."""
        self.client.log_event(user, name, value, metadata)

    def evaluate_all(self, user: UserLike) -> Evaluations:
        """:meth:`Flagport.evaluate_all <flagport.Flagport.evaluate_all>` (forced flags too)."""
        return self.client.evaluate_all(user)

    # -- forcing -------------------------------------------------------------------
    def force_gate(self, name: str, value: bool, user_id: str | None = None) -> None:
        """Force a gate for every client, for everyone or for one user id.

        :raises FlagNotFoundError: in strict mode, the name is not a known gate.
        """
        __tracebackhide__ = True  # the failure is the test's line, not the plugin's
        self._check_name("gate", name)
        global_overrides.gate(name, value, user_id)
        self._forced("gate", name)

    def force_experiment(
        self,
        name: str,
        group: str | None = None,
        value: JsonValue = None,
        *,
        user_id: str | None = None,
    ) -> None:
        """Put everyone (or one user id) in an experiment group, with its parameters.

        Without ``value``, the group serves the value the provider's definitions give
        it (the flags file's, with ``local``), when the provider has them.

        :raises FlagNotFoundError: in strict mode, the name is not a known experiment.
        :raises ConfigurationError: in strict mode, the definitions have no such group.
        """
        __tracebackhide__ = True  # the failure is the test's line, not the plugin's
        self._check_name("experiment", name)
        if group is not None:
            value = self._group_value(name, group, value)
        global_overrides.experiment(name, group, value, user_id)
        self._forced("experiment", name)

    def force_config(self, name: str, value: JsonValue, *, user_id: str | None = None) -> None:
        """Force a dynamic config's value for everyone or for one user id.

        :raises FlagNotFoundError: in strict mode, the name is not a known config.
        """
        __tracebackhide__ = True  # the failure is the test's line, not the plugin's
        self._check_name("config", name)
        global_overrides.config(name, value, user_id)
        self._forced("config", name)

    def _forced(self, kind: str, name: str) -> None:
        with self.capture.lock:
            self.capture.forced[(kind, name)] = None

    def _group_value(self, name: str, group: str, value: JsonValue) -> Any:
        """``value``, else the group's value in the provider's definitions (any JSON
        value: the overrides take it as it is)."""
        __tracebackhide__ = True
        groups = self.client.provider.experiment_groups(name)
        if groups is None:
            return value
        if group not in groups:
            if self.strict:
                hint = did_you_mean(group, groups) or "force one of those"
                raise ConfigurationError(
                    f"cannot force experiment {name!r} into group {group!r}: provider "
                    f"{self.client.provider_name!r} defines the groups "
                    f"{', '.join(map(repr, groups))}; {hint}"
                )
            return value
        return groups[group] if value is None else value

    def _known_names(self) -> tuple[FlagNames, str] | None:
        if self._known is not None:
            return self._known, self._known_source or "the known flags file"
        names = self.client.provider.names()
        if names.gates or names.experiments or names.configs:
            return names, f"provider {self.client.provider_name!r}"
        return None

    def _check_name(self, kind: str, name: str) -> None:
        __tracebackhide__ = True
        if not self.strict:
            return
        known = self._known_names()
        if known is None:
            return
        names, source = known
        valid = names.of(kind)
        if name in valid:
            return
        hint = did_you_mean(name, valid) or f"known {kind}s: {sorted(valid)}"
        raise FlagNotFoundError(
            f"cannot force {kind} {name!r}: {source} has no such {kind}; {hint}"
        )

    # -- events ---------------------------------------------------------------------
    @property
    def events(self) -> list[Event]:
        """Custom events and exposures logged by any client during the test, in order."""
        self.client.flush()
        with self.capture.lock:
            return list(self.capture.events)

    @property
    def custom_events(self) -> list[Event]:
        """The custom events (``log_event``) of :attr:`events`."""
        return [e for e in self.events if e.kind is EventKind.CUSTOM]

    @property
    def exposure_events(self) -> list[Event]:
        """The exposures of :attr:`events`."""
        return [e for e in self.events if e.kind is EventKind.EXPOSURE]

    def clear_events(self) -> None:
        """Forget the events captured so far."""
        with self.capture.lock:
            self.capture.events.clear()

    def assert_logged(
        self,
        name: str,
        value: Any = MISSING,
        metadata: Mapping[str, Any] | None = None,
        *,
        user_id: str | None = None,
        times: int | None = None,
    ) -> Event | None:
        """Assert a custom event was logged; returns the first match (``None`` if ``times=0``).

        :param value: the event's value (``pytest.approx`` works).
        :param metadata: keys and values the event's metadata must contain.
        :param user_id: the user the event was logged for.
        :param times: exactly how many matching events there must be.
        :raises AssertionError: listing every custom event that was logged.
        """
        __tracebackhide__ = True
        criteria = _criteria(value=value, metadata=metadata, user_id=user_id)
        return self._assert_event(EventKind.CUSTOM, name, criteria, times)

    def assert_not_logged(self, name: str, *, user_id: str | None = None) -> None:
        """Assert no custom event of that name was logged (for that user).

        :raises AssertionError: listing the offending events.
        """
        __tracebackhide__ = True
        criteria = _criteria(user_id=user_id)
        self._assert_event(EventKind.CUSTOM, name, criteria, 0)

    def assert_exposed(
        self,
        name: str,
        group: Any = MISSING,
        *,
        user_id: str | None = None,
        times: int | None = None,
    ) -> Event | None:
        """Assert an exposure to the experiment (in that group) was logged.

        :returns: the first matching exposure (``None`` only when ``times=0``).
        :raises AssertionError: listing every exposure that was logged.
        """
        __tracebackhide__ = True
        criteria = _criteria(group=group, user_id=user_id)
        return self._assert_event(EventKind.EXPOSURE, name, criteria, times)

    def _assert_event(
        self, kind: EventKind, name: str, criteria: dict[str, Any], times: int | None
    ) -> Event | None:
        __tracebackhide__ = True
        events = self.events
        found = find_events(events, kind, name, criteria)
        if (times is None and not found) or (times is not None and len(found) != times):
            raise AssertionError(
                mismatch_message(events, kind, name, criteria, found=len(found), times=times)
            )
        return found[0] if found else None


def _criteria(**given: Any) -> dict[str, Any]:
    return {k: v for k, v in given.items() if v is not MISSING and v is not None}
