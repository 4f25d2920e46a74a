"""The sticky-assignment store interface and the in-memory store.

A store keeps, per unit (a user id, or a custom id), the group each experiment gave
it. It answers a unit's assignments in one round trip (:meth:`StickyStore.load`) and
saves new ones in batches (:meth:`StickyStore.save`), so that evaluation itself
stays in memory.
"""

from __future__ import annotations

import threading
from abc import ABC, abstractmethod
from collections import OrderedDict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from flagport.reasons import Reason
from flagport.results import JsonValue, thaw

__all__ = ["NOT_STORED", "Assignment", "MemoryStore", "StickyStore", "Write"]

#: Reasons whose group is not the experiment's own assignment, never stored.
NOT_STORED = frozenset({Reason.ERROR, Reason.OVERRIDE, Reason.STICKY})


@dataclass(frozen=True, slots=True)
class Assignment:
    """The group an experiment gave a unit, with what it served.

    :ivar group: the group (variation) name.
    :ivar value: the group's value as served then (any JSON value).
    :ivar version: the experiment's bucket version at assignment time.
    :ivar first: the lowest bucket version the unit was ever assigned at in this
        experiment, as the local provider kept GrowthBook's rules before it kept
        GrowthBook's documents (read for blocking: :func:`flagport.sticky.growthbook.document`);
        None: ``version``.
    """

    group: str
    value: JsonValue
    version: int = 0
    first: int | None = None

    @property
    def first_version(self) -> int:
        return self.version if self.first is None else min(self.first, self.version)

    def as_json(self) -> dict[str, Any]:
        data = {"group": self.group, "value": thaw(self.value), "version": self.version}
        if self.first is not None and self.first < self.version:
            data["first"] = self.first
        return data

    @classmethod
    def from_json(cls, data: Any) -> Assignment | None:
        """The assignment in ``data``, or ``None`` when it is not one (a foreign write)."""
        if not isinstance(data, Mapping):
            return None
        group, value, version = data.get("group"), data.get("value", {}), data.get("version", 0)
        first = data.get("first")
        if not isinstance(group, str):
            return None
        if not all(isinstance(v, int) and not isinstance(v, bool) for v in (version, first or 0)):
            return None
        return cls(group, value, version, first)


Write = tuple[str, str, Assignment]
"""A unit key, an experiment name and the assignment to store."""


class StickyStore(ABC):
    """Where sticky assignments live. Subclass it to add a store (and register it with
    the ``flagport_register_sticky_stores`` hook).

    :cvar name: how the store is selected in settings (``{"store": name}``).
    """

    name: str = ""

    @abstractmethod
    def load(self, unit: str) -> dict[str, Assignment]:
        """Every stored assignment of ``unit``, by experiment name (one round trip).

        A store that cannot answer raises; the caller counts it and serves fresh
        assignments.
        """

    @abstractmethod
    def save(self, writes: Sequence[Write]) -> None:
        """Store a batch of assignments (an existing one of a unit is replaced).

        A batch that raised is saved again a little later (a store busy for a moment):
        saving one twice must leave what saving it once does."""

    async def aload(self, unit: str) -> dict[str, Assignment]:
        """:meth:`load` without blocking the event loop."""
        import asyncio  # only async programs pay for it

        return await asyncio.to_thread(self.load, unit)

    async def asave(self, writes: Sequence[Write]) -> None:
        """:meth:`save` without blocking the event loop."""
        import asyncio

        await asyncio.to_thread(self.save, writes)

    def after_fork_in_child(self) -> None:  # noqa: B027 - optional
        """Forget connections the parent opened (called in a forked child)."""

    def close(self) -> None:  # noqa: B027 - optional
        """Release connections."""


class MemoryStore(StickyStore):
    """Assignments in this process's memory, for at most ``max_units`` units (the least
    recently used are forgotten first).
    """

    name = "memory"

    def __init__(self, max_units: int = 100_000) -> None:
        self.max_units = max_units
        self._units: OrderedDict[str, dict[str, Assignment]] = OrderedDict()
        self._lock = threading.Lock()

    def load(self, unit: str) -> dict[str, Assignment]:
        with self._lock:
            found = self._units.get(unit)
            if found is None:
                return {}
            self._units.move_to_end(unit)
            return dict(found)

    def save(self, writes: Sequence[Write]) -> None:
        with self._lock:
            for unit, experiment, assignment in writes:
                known = self._units.get(unit)
                if known is None:
                    known = self._units[unit] = {}
                else:
                    self._units.move_to_end(unit)
                known[experiment] = assignment
            while len(self._units) > self.max_units:
                self._units.popitem(last=False)

    def __len__(self) -> int:
        return len(self._units)
