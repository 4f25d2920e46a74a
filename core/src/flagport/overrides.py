"""Forced values, held by the client above any provider.

Each override is stored as a ready result (reason ``OVERRIDE``), so serving one
allocates nothing. Tables are replaced, never mutated, so readers on other threads
always see a whole table without a lock; writers copy and replace under a lock, so
two overrides set at once are both kept.

Besides its own overrides, every client consults :data:`global_overrides`: values
forced for the whole process (the pytest plugin forces there, so application code
that builds its own client sees them too). A client's own override of a flag and
user wins over a global one.
"""

from __future__ import annotations

import builtins
import threading
import weakref
from typing import Any, Generic, TypeVar

from flagport._wording import with_article
from flagport.errors import ConfigurationError, shown
from flagport.reasons import Reason
from flagport.results import (
    JSON_TYPES,
    ConfigResult,
    ExperimentResult,
    GateResult,
    JsonValue,
    Result,
    freeze,
)

__all__ = ["OverrideTable", "Overrides", "global_overrides"]

R = TypeVar("R", bound=Result)
_ANY_USER = ""
# Serialises changes to ``active`` flags, so a client's change and a global one racing
# cannot leave a table inactive while it has entries.
_refresh_lock = threading.Lock()


class OverrideTable(Generic[R]):
    """Overrides of one kind: flag name -> user id (or everyone) -> result.

    :ivar table: this table's own entries.
    :ivar base: a table consulted after this one (the global overrides), or ``None``.
    :ivar active: true while this table or its base holds an entry; kept up to date
        by both, so a client tests this one attribute on its hot path and pays
        nothing more while nothing is forced.
    """

    __slots__ = ("__weakref__", "_dependents", "_write_lock", "active", "base", "table")

    def __init__(self, base: OverrideTable[R] | None = None) -> None:
        self.table: dict[str, dict[str, R]] = {}
        self._write_lock = threading.Lock()
        self.base = base
        self.active = False
        self._dependents: weakref.WeakSet[OverrideTable[R]] | None = None
        if base is not None:
            with _refresh_lock:
                if base._dependents is None:
                    base._dependents = weakref.WeakSet()
                base._dependents.add(self)
                self.active = base.active

    def _changed(self) -> None:
        with _refresh_lock:
            self._refresh()

    def _refresh(self) -> None:
        self.active = bool(self.table) or (self.base is not None and self.base.active)
        if self._dependents:
            for dependent in list(self._dependents):
                dependent._refresh()

    def set(self, name: str, result: R, user_id: str | None) -> None:
        with self._write_lock:
            # Copy, change, then publish with one assignment: readers never lock.
            by_user = dict(self.table.get(name, {}))
            by_user[user_id if user_id is not None else _ANY_USER] = result
            self.table = {**self.table, name: by_user}
            self._changed()

    def lookup(self, name: str, user_id: str | None) -> R | None:
        """This table's entry for the flag and user, else its base's."""
        by_user = self.table.get(name)
        if by_user is not None:
            if user_id is not None and user_id in by_user:
                return by_user[user_id]
            found = by_user.get(_ANY_USER)
            if found is not None:
                return found
        return self.base.lookup(name, user_id) if self.base is not None else None

    def names(self) -> builtins.set[str]:  # ``set`` alone is the method above
        """Every flag with an entry here or in the base."""
        own = set(self.table)
        return own | self.base.names() if self.base is not None else own

    def clear(self, name: str | None = None) -> None:
        with self._write_lock:
            if name is None:
                self.table = {}
            else:
                self.table = {k: v for k, v in self.table.items() if k != name}
            self._changed()


class Overrides:
    """Gate, experiment and config overrides of one client.

    :param base: overrides consulted after these ones (a client passes
        :data:`global_overrides`).
    """

    __slots__ = ("configs", "experiments", "gates")

    def __init__(self, base: Overrides | None = None) -> None:
        self.gates: OverrideTable[GateResult] = OverrideTable(base.gates if base else None)
        self.experiments: OverrideTable[ExperimentResult] = OverrideTable(
            base.experiments if base else None
        )
        self.configs: OverrideTable[ConfigResult] = OverrideTable(base.configs if base else None)

    def gate(self, name: str, value: bool, user_id: str | None = None) -> None:
        """Force a gate.

        :raises ConfigurationError: the name, value or user id cannot be an override.
        """
        user_key = _checked("gate", name, user_id)
        # Only a bool (or 0/1): bool("false") is True, so a string that names a value
        # must not be read as Python truthiness.
        if not isinstance(value, bool | int) or value not in (0, 1):
            raise ConfigurationError(
                f"override of gate {shown(name)}: the value {shown(value)} is not a bool; "
                "pass True or False"
            )
        forced = bool(value)
        result = GateResult(name=name, value=forced, reason=Reason.OVERRIDE, rule_id="override")
        self.gates.set(name, result, user_key)

    def experiment(
        self,
        name: str,
        group: str | None = None,
        value: JsonValue = None,
        user_id: str | None = None,
    ) -> None:
        """Force an experiment's group and its value (parameters, or any JSON value).

        :raises ConfigurationError: as :meth:`gate`.
        """
        user_key = _checked("experiment", name, user_id)
        if group is not None and not isinstance(group, str):
            raise ConfigurationError(
                f"override of experiment {shown(name)}: the group is a str or None, "
                f"got {type(group).__name__}"
            )
        result = ExperimentResult(
            name=name,
            group=group,
            value=_frozen("experiment", name, {} if value is None else value),
            reason=Reason.OVERRIDE,
            rule_id="override",
        )
        self.experiments.set(name, result, user_key)

    def config(self, name: str, value: JsonValue, user_id: str | None = None) -> None:
        """Force a dynamic config's value.

        :raises ConfigurationError: as :meth:`gate`.
        """
        user_key = _checked("config", name, user_id)
        result = ConfigResult(
            name=name,
            value=_frozen("config", name, value),
            reason=Reason.OVERRIDE,
            rule_id="override",
        )
        self.configs.set(name, result, user_key)

    def clear(self, name: str | None = None) -> None:
        for table in (self.gates, self.experiments, self.configs):
            table.clear(name)

    def names(self) -> tuple[set[str], set[str], set[str]]:
        return self.gates.names(), self.experiments.names(), self.configs.names()


def _checked(kind: str, name: object, user_id: object) -> str | None:
    """The user id an override of ``name`` is stored under (None for everyone)."""
    if not isinstance(name, str):
        raise ConfigurationError(
            f"override of {with_article(kind)}: flag names are str, "
            f"got {type(name).__name__} {shown(name)}"
        )
    if user_id is None or isinstance(user_id, str):
        return user_id
    if isinstance(user_id, int) and not isinstance(user_id, bool):
        return str(user_id)  # as flagport.as_user does for a user's id
    raise ConfigurationError(
        f"override of {kind} {shown(name)}: user_id is a str, got {type(user_id).__name__}"
    )


def _frozen(kind: str, name: str, value: object) -> Any:
    if not isinstance(value, JSON_TYPES):
        raise ConfigurationError(
            f"override of {kind} {shown(name)}: the value is a JSON value (a mapping such "
            f"as {{'discount': 0.2}}, a list, a str, a number, a bool or None), "
            f"got {type(value).__name__}"
        )
    try:
        return freeze(value)
    except ValueError as exc:
        raise ConfigurationError(f"override of {kind} {shown(name)}: {exc}") from None


#: Values forced for every client in the process, consulted after a client's own
#: overrides. The pytest plugin forces here; applications use ``override_*``.
global_overrides = Overrides()
