"""An experiment's sticky policy, as a flags file (or a vendor) states it."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from flagport.sticky.units import UnitOf, attribute_unit, checked_minimum, store_unit, unit_key

if TYPE_CHECKING:
    from flagport.results import ExperimentResult
    from flagport.sticky.growthbook import GrowthBookSplit
    from flagport.sticky.store import Assignment
    from flagport.user import User

__all__ = [
    "DEFAULT_POLICY",
    "FallbackSwitch",
    "StickyPolicy",
    "checked_minimum",
    "has_fallback",
    "split_fallback",
    "sticky_policy",
    "store_unit",
    "unit_key",
]


class FallbackSwitch:
    """Whether an experiment's ``fallback_unit`` is bucketed: only while its client has a
    sticky store (GrowthBook uses ``fallbackAttribute`` only with a sticky-bucket
    service). One per compiled experiment, turned on by the provider the store is
    attached to, read by every split of the experiment.
    """

    __slots__ = ("on",)

    def __init__(self) -> None:
        self.on = False

    def either(self, primary: UnitOf, fallback: UnitOf) -> UnitOf:
        """user -> ``primary``'s unit, else (while on) ``fallback``'s."""

        def unit_or_fallback(user: User) -> str | None:
            found = primary(user)
            if found is None and self.on:
                return fallback(user)
            return found

        return unit_or_fallback


def split_fallback(
    fallback: tuple[str | None, FallbackSwitch] | None, rule: Any, unit: UnitOf, mode: str
) -> UnitOf:
    """user -> ``unit`` of a ``rule``, else (a split, while the client has a sticky store)
    its fallback unit, GrowthBook's ``fallbackAttribute``: the experiment's ``fallback``
    for a split naming no unit of its own, or the one its own ``sticky`` states."""
    if fallback is None or rule.split is None:
        return unit
    name, switch = fallback
    if rule.split.sticky is not None or rule.unit is not None:
        name = rule.split.sticky.fallback_unit if rule.split.sticky else None
    if name is None:
        return unit
    from flagport.providers.local.units import unit_getter

    return switch.either(unit, unit_getter(name, mode))


@dataclass(frozen=True, slots=True)
class StickyPolicy:
    """Whether an experiment keeps units in their stored group, which stored
    assignments still count, and whose they are.

    :ivar sticky: False: the experiment's groups are never stored nor served from the store.
    :ivar version: the bucket version new assignments are stored with.
    :ivar min_version: flagport's rules: stored assignments of an older version are
        discarded (a fresh assignment is served and stored instead). GrowthBook's rules:
        a unit ever assigned at an older version is blocked.
    :ivar growthbook: GrowthBook's sticky-bucketing rules, on its own store entries
        (:mod:`flagport.sticky.growthbook`); ``splits`` says how.
    :ivar unit: the unit whose assignments these are (``user_id`` or a ``custom_ids`` key).
    :ivar fallback_unit: the unit used when ``unit`` is missing; its stored group counts
        when ``unit`` has none.
    :ivar unit_of: user -> the ``unit`` id, for units other than ``user_id`` and custom
        ids (an attribute such as ``$growthbook.id``); None: :meth:`User.unit`.
    :ivar fallback_of: likewise for ``fallback_unit``.
    :ivar splits: GrowthBook's rules: every sticky split, in rule order
        (:mod:`flagport.sticky.growthbook` serves them).
    :ivar positions: GrowthBook's rules: each rule's index by id.
    :ivar entry: the name the unit's stored group is kept under (None: the experiment's).
    """

    sticky: bool = True
    version: int = 0
    min_version: int = 0
    growthbook: bool = False
    unit: str = "user_id"
    fallback_unit: str | None = None
    unit_of: UnitOf | None = None
    fallback_of: UnitOf | None = None
    splits: tuple[GrowthBookSplit, ...] = ()
    positions: Mapping[str, int] = field(default_factory=dict)
    entry: str | None = None

    @property
    def split_rule(self) -> str | None:
        """The id of the rule holding the first sticky split (None: the ``groups``)."""
        first = self.splits[0].index if self.splits else None
        return next((rule for rule, at in self.positions.items() if at == first), None)

    def keeps(self, stored: Assignment) -> bool:
        """Whether ``stored`` still wins over a fresh assignment (flagport's rules)."""
        return self.min_version <= stored.version <= self.version

    def units(self, user: User) -> tuple[str | None, str | None]:
        """The user's id for ``unit`` and for ``fallback_unit`` (None: missing)."""
        fallback = None
        if self.fallback_of is not None:
            fallback = self.fallback_of(user)
        elif self.fallback_unit is not None:
            fallback = user.unit(self.fallback_unit)
        primary = self.unit_of(user) if self.unit_of is not None else user.unit(self.unit)
        return primary or None, fallback or None

    def key(self, value: str, *, fallback: bool = False) -> str:
        """The store's unit key of ``value`` for ``unit`` (or ``fallback_unit``)."""
        unit = self.fallback_unit if fallback else self.unit
        return unit_key(store_unit(unit or "user_id"), value)


#: Experiments a provider states nothing about: sticky, version 0, per user id.
DEFAULT_POLICY = StickyPolicy()


def has_fallback(exp: Any) -> bool:
    """Whether a split after an experiment's first states a ``fallback_unit`` of its own."""
    return any(
        rule.split is not None and rule.split.sticky and rule.split.sticky.fallback_unit
        for rule in exp.rules or ()
    )


def sticky_policy(
    exp: Any,
    path: str,
    problems: list[tuple[str, str]],
    blocked: ExperimentResult | None = None,
    rules: Sequence[Any] = (),
    mode: str = "statsig",
    groups: Sequence[ExperimentResult] = (),
    name: str = "",
) -> StickyPolicy:
    """The policy an experiment definition states (``sticky``, ``sticky_rules``,
    ``sticky_key``, ``bucket_version``, ``min_bucket_version``, ``unit``,
    ``fallback_unit``, and a later split's ``sticky``); a minimum above the version is
    a located problem.

    :param blocked: the experiment's result for a unit outside it.
    :param rules: the experiment's compiled rules (GrowthBook's rules: every rule with a
        ``split`` is a sticky split, the first under the experiment's fields; the
        experiment's ``groups`` when no rule has one).
    :param mode: the experiment's hash, which writes an attribute unit as text.
    :param groups: the experiment's compiled groups.
    :param name: the experiment's name (GrowthBook's key when ``sticky_key`` is omitted).
    """
    version: int = exp.bucket_version
    minimum: int | None = exp.min_bucket_version
    growthbook = exp.sticky_rules == "growthbook"
    if minimum is not None:
        minimum = checked_minimum(version, minimum, f"{path}.min_bucket_version", problems)
    if minimum is None:
        # flagport: raising the version alone reassigns everyone. GrowthBook: nobody is
        # blocked unless a minimum says so.
        minimum = 0 if growthbook else version
    policy = StickyPolicy(
        sticky=exp.sticky is not False,
        version=version,
        min_version=minimum,
        growthbook=growthbook,
        unit=exp.unit,
        fallback_unit=exp.fallback_unit,
        unit_of=attribute_unit(exp.unit, mode),
        fallback_of=attribute_unit(exp.fallback_unit, mode),
        entry=exp.sticky_key,
    )
    if not growthbook:
        return policy
    from dataclasses import replace

    from flagport.sticky.growthbook_splits import growthbook_splits

    splits = growthbook_splits(
        exp, policy, exp.sticky_key or name, rules, groups, blocked, mode, (path, problems)
    )
    positions = {rule.id: at for at, rule in enumerate(rules)}
    return replace(
        policy,
        sticky=any(split.enabled for split in splits),
        splits=splits,
        positions=positions,
    )
