"""Forced values, held by the client above any provider.

Each override is stored as a ready result (reason ``OVERRIDE``), so serving one
allocates nothing. Tables are replaced, never mutated, so readers on other threads
always see a whole table.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Generic, TypeVar

from flagport.reasons import Reason
from flagport.results import ConfigResult, ExperimentResult, GateResult, Result, freeze

__all__ = ["OverrideTable", "Overrides"]

R = TypeVar("R", bound=Result)
_ANY_USER = ""


class OverrideTable(Generic[R]):
    """Overrides of one kind: flag name -> user id (or everyone) -> result."""

    __slots__ = ("table",)

    def __init__(self) -> None:
        self.table: dict[str, dict[str, R]] = {}

    def set(self, name: str, result: R, user_id: str | None) -> None:
        by_user = dict(self.table.get(name, {}))
        by_user[user_id if user_id is not None else _ANY_USER] = result
        self.table = {**self.table, name: by_user}

    def lookup(self, name: str, user_id: str | None) -> R | None:
        by_user = self.table.get(name)
        if by_user is None:
            return None
        if user_id is not None and user_id in by_user:
            return by_user[user_id]
        return by_user.get(_ANY_USER)

    def clear(self, name: str | None = None) -> None:
        if name is None:
            self.table = {}
        else:
            self.table = {k: v for k, v in self.table.items() if k != name}


class Overrides:
    """Gate, experiment and config overrides of one client."""

    __slots__ = ("configs", "experiments", "gates")

    def __init__(self) -> None:
        self.gates: OverrideTable[GateResult] = OverrideTable()
        self.experiments: OverrideTable[ExperimentResult] = OverrideTable()
        self.configs: OverrideTable[ConfigResult] = OverrideTable()

    def gate(self, name: str, value: bool, user_id: str | None = None) -> None:
        result = GateResult(
            name=name, value=bool(value), reason=Reason.OVERRIDE, rule_id="override"
        )
        self.gates.set(name, result, user_id)

    def experiment(
        self,
        name: str,
        group: str | None = None,
        value: Mapping[str, Any] | None = None,
        user_id: str | None = None,
    ) -> None:
        result = ExperimentResult(
            name=name,
            group=group,
            value=freeze(value or {}),
            reason=Reason.OVERRIDE,
            rule_id="override",
        )
        self.experiments.set(name, result, user_id)

    def config(self, name: str, value: Mapping[str, Any], user_id: str | None = None) -> None:
        result = ConfigResult(
            name=name, value=freeze(value), reason=Reason.OVERRIDE, rule_id="override"
        )
        self.configs.set(name, result, user_id)

    def clear(self, name: str | None = None) -> None:
        for table in (self.gates, self.experiments, self.configs):
            table.clear(name)

    def names(self) -> tuple[set[str], set[str], set[str]]:
        return set(self.gates.table), set(self.experiments.table), set(self.configs.table)
