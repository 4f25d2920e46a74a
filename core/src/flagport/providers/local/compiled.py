"""Compiled, immutable definitions: what the local provider evaluates.

A flags file is compiled once into a :class:`Snapshot`: conditions become callables,
hash salts and thresholds are fixed, and every result an evaluation can return is
built in advance (one per rule, per group, per outcome). Evaluating then allocates
nothing, and a reload replaces the whole snapshot with one reference
assignment, so no evaluation can see half of two versions.

Hashing dominates the cost of a percentage rule, so each compiled rule and
experiment memoises its hash outcomes by unit id, within one memory budget for the
whole process: a unit seen again (in the same request or a later one) skips
SHA-256/MD5/FNV entirely. The memo can only return what the hash would, so it never
changes an answer.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from flagport._memos import Budget, Memo
from flagport.provider import FlagNames
from flagport.providers.local.bucketing import Bucketer
from flagport.providers.local.conditions import Condition
from flagport.providers.local.rule_eval import Rule, first_match
from flagport.providers.local.units import UnitGetter
from flagport.reasons import Reason
from flagport.results import ConfigResult, ExperimentResult, FrozenDict, GateResult, freeze

if TYPE_CHECKING:
    from flagport.providers.local.models import FlagsFile
    from flagport.sticky.policy import FallbackSwitch, StickyPolicy
    from flagport.user import User

__all__ = [
    "MEMOS",
    "MEMO_BYTES_LIMIT",
    "MEMO_LIMIT",
    "CompiledConfig",
    "CompiledExperiment",
    "CompiledGate",
    "Rule",
    "Snapshot",
    "clear_memo",
    "first_match",
    "memo_stats",
]

PROVIDER = "local"
#: Hash outcomes kept across all memos before they are emptied.
MEMO_LIMIT = 65_536
#: Estimated bytes those outcomes hold (their unit ids and entries) before the memos are
#: emptied; a unit id alone larger than this is never memoised.
MEMO_BYTES_LIMIT = 16 * 1024 * 1024
_ENTRY_BYTES = 120  # a dict slot and a str object's header, besides the id's characters


#: Every compiled rule's and experiment's memo, under one budget for the process: past
#: it, all are emptied at once, so memory stays bounded however many flags and units
#: there are. Memos of replaced snapshots vanish with them (the budget holds them
#: weakly). Counted in bytes too: 8,000 ids of 100 KB are few entries but 800 MB.
MEMOS = Budget(MEMO_LIMIT, MEMO_BYTES_LIMIT)
_new_memo = MEMOS.memo


def _remember(memo: Memo[str, Any], unit: str, value: Any) -> None:
    MEMOS.put(memo, unit, value, len(unit) + _ENTRY_BYTES)


#: Public names for the rule compiler, which builds memos for its selectors.
new_memo = _new_memo
remember = _remember


def clear_memo() -> None:
    """Forget memoised hash outcomes (tests and benchmarks measuring cold paths)."""
    MEMOS.clear()


def memo_stats() -> dict[str, int]:
    """The memos' accounting: outcomes held, their estimated bytes, and how often the
    limits (:data:`MEMO_LIMIT`, :data:`MEMO_BYTES_LIMIT`) emptied them."""
    return MEMOS.stats()


class Percentage:
    """A fixed pass percentage for one (flag, rule) salt pair, memoised per unit."""

    __slots__ = (
        "bucketer",
        "by_user_id",
        "flag_salt",
        "getter",
        "memo",
        "percentage",
        "rule_salt",
        "unit",
    )

    def __init__(
        self,
        bucketer: Bucketer,
        unit: str,
        flag_salt: str,
        rule_salt: str,
        percentage: float,
        *,
        getter: UnitGetter | None = None,
    ) -> None:
        self.bucketer = bucketer
        self.unit = unit
        self.by_user_id = unit == "user_id"
        self.getter = getter
        self.flag_salt = flag_salt
        self.rule_salt = rule_salt
        self.percentage = percentage
        self.memo = _new_memo()

    def unit_of(self, user: User) -> str | None:
        """The user's unit text (None without one)."""
        if self.by_user_id:
            return user.user_id
        if self.getter is not None:
            return self.getter(user)
        return user.custom_ids.get(self.unit)

    def passes(self, user: User) -> bool:
        """Whether the user's unit falls inside the percentage (False without a unit)."""
        unit = user.user_id if self.by_user_id else self.unit_of(user)
        if not unit:
            return False
        found: bool | None = self.memo.get(unit)
        if found is None:
            found = self.bucketer.gate_passes(self.flag_salt, self.rule_salt, unit, self.percentage)
            _remember(self.memo, unit, found)
        return found


class CompiledGate:
    """A gate ready to evaluate: overrides, then the first matching rule decides."""

    __slots__ = ("default", "disabled", "name", "overrides", "rules")

    def __init__(
        self,
        name: str,
        rules: tuple[Rule, ...],
        overrides: Mapping[str, GateResult],
        disabled: GateResult | None,
    ) -> None:
        self.name = name
        self.rules = rules
        self.overrides = overrides
        self.disabled = disabled
        self.default = GateResult(name=name, value=False, reason=Reason.DEFAULT, provider=PROVIDER)

    def evaluate(self, user: User) -> GateResult:
        """The gate's result for ``user`` (a shared, prebuilt object)."""
        if self.disabled is not None:
            return self.disabled
        if self.overrides:
            forced = self.overrides.get(user.user_id)  # type: ignore[arg-type]
            if forced is not None:
                return forced
        return first_match(self.rules, user, self.default)  # type: ignore[no-any-return]


class CompiledConfig:
    """A dynamic config: the first matching rule's value, else the default."""

    __slots__ = ("default", "disabled", "name", "rules")

    def __init__(
        self,
        name: str,
        rules: tuple[Rule, ...],
        default: ConfigResult,
        disabled: ConfigResult | None = None,
    ) -> None:
        self.name = name
        self.rules = rules
        self.default = default
        self.disabled = disabled

    def evaluate(self, user: User) -> ConfigResult:
        """The config's result for ``user`` (a shared, prebuilt object)."""
        if self.disabled is not None:
            return self.disabled
        return first_match(self.rules, user, self.default)  # type: ignore[no-any-return]


class CompiledExperiment:
    """An experiment: fixed outcome when stopped or launched, else bucketed by weight.

    :ivar static: the result for everyone when stopped or launched, else None.
    :ivar choose: maps a unit id to a group index, or -1 when the unit falls outside
        the allocation (built from the bucketing algorithm at compile time).
    """

    __slots__ = (
        "bucketer",
        "choose",
        "fallback_switch",
        "fallback_unit",
        "groups",
        "memo",
        "name",
        "namespace",
        "not_in",
        "ns_memo",
        "overrides",
        "rules",
        "static",
        "sticky",
        "unit",
        "when",
    )

    def __init__(
        self,
        *,
        name: str,
        unit: str,
        bucketer: Bucketer,
        choose: Callable[[str], int],
        when: Condition | None,
        groups: tuple[ExperimentResult, ...],
        overrides: Mapping[str, ExperimentResult],
        namespace: tuple[str, float, float] | None,
        not_in: ExperimentResult,
        static: ExperimentResult | None,
        rules: tuple[Rule, ...] = (),
        fallback_unit: str | None = None,
        fallback_switch: FallbackSwitch | None = None,
    ) -> None:
        self.name = name
        self.fallback_unit = fallback_unit
        #: On while the client has a sticky store: ``fallback_unit`` is bucketed then.
        self.fallback_switch = fallback_switch
        self.rules = rules
        self.unit = unit
        self.memo = _new_memo()
        self.ns_memo = _new_memo() if namespace is not None else self.memo
        self.bucketer = bucketer
        self.choose = choose
        self.when = when
        self.groups = groups
        self.overrides = overrides
        self.namespace = namespace
        self.not_in = not_in
        self.static = static
        #: The flags file's sticky policy (sticky unless it says otherwise).
        self.sticky: StickyPolicy | None = None

    def group_index(self, unit: str) -> int:
        """The unit's group index, or -1 outside the allocation (memoised)."""
        found = self.memo.get(unit)
        if found is None:
            found = self.choose(unit)
            _remember(self.memo, unit, found)
        return int(found)

    def in_namespace(self, unit: str) -> bool:
        """Whether the unit falls in this experiment's namespace range (memoised)."""
        if self.namespace is None:
            return True
        ns, start, end = self.namespace
        found = self.ns_memo.get(unit)
        if found is None:
            found = self.bucketer.in_range(ns, unit, start, end)
            _remember(self.ns_memo, unit, found)
        return bool(found)

    def evaluate(self, user: User) -> ExperimentResult:
        """The user's assignment (a shared, prebuilt object)."""
        if self.static is not None:
            return self.static
        unit = user.user_id if self.unit == "user_id" else user.custom_ids.get(self.unit)
        if not unit and self.fallback_switch is not None and self.fallback_switch.on:
            unit = user.unit(self.fallback_unit or "")
        if self.overrides and unit:
            forced = self.overrides.get(unit)
            if forced is not None:
                return forced
        if self.rules:
            found = first_match(self.rules, user, None, self.not_in)
            if found is not None:
                return found  # type: ignore[no-any-return]
        if not unit or not self.groups:
            return self.not_in
        if self.when is not None and not self.when(user.attributes, user):
            return self.not_in
        if self.namespace is not None and not self.in_namespace(unit):
            return self.not_in
        index = self.group_index(unit)
        return self.not_in if index < 0 else self.groups[index]


@dataclass(frozen=True, slots=True)
class Snapshot:
    """One immutable version of the definitions.

    :ivar gates: compiled gates by name (never modified once built; likewise the others).
    :ivar source: where the definitions came from (a file path or ``"inline flags"``).
    :ivar definitions: the validated file model, for ``explain`` and the CLI.
    :ivar ready: False only for the empty placeholder used before the first load.
    """

    gates: Mapping[str, CompiledGate] = field(default_factory=dict)
    experiments: Mapping[str, CompiledExperiment] = field(default_factory=dict)
    configs: Mapping[str, CompiledConfig] = field(default_factory=dict)
    source: str = ""
    definitions: FlagsFile | None = None
    segments: Mapping[str, Any] = field(default_factory=dict)
    conditions: Any = None  # the ConditionOptions conditions were compiled with (explain)
    hash: str = "statsig"
    ready: bool = False
    names: FlagNames = field(default_factory=FlagNames)


def frozen_value(value: Mapping[str, Any] | None) -> Mapping[str, Any] | None:
    """Deep-freeze a definition value once, so results share it safely."""
    if value is None:
        return None
    frozen: FrozenDict = freeze(dict(value))
    return frozen
