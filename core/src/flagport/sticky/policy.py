"""An experiment's sticky policy, as a flags file (or a vendor) states it."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from flagport.results import ExperimentResult
    from flagport.sticky.store import Assignment
    from flagport.user import User

__all__ = [
    "DEFAULT_POLICY",
    "FallbackSwitch",
    "StickyPolicy",
    "sticky_policy",
    "store_unit",
    "unit_key",
]

UnitOf = Callable[["User"], "str | None"]
#: A unit name that reads the attribute GrowthBook's SDK is sent (``$growthbook.id``).
_GROWTHBOOK_UNIT = "$growthbook."


def unit_key(unit: str, value: str) -> str:
    """The store's key of the unit ``unit`` = ``value``: the user id itself for
    ``user_id`` (what a request scope loads), else ``"<unit>||<value>"`` (the way
    GrowthBook keys its sticky documents, so both name a unit alike).
    """
    return value if unit == "user_id" else f"{unit}||{value}"


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


def store_unit(unit: str) -> str:
    """The unit name a stored assignment is keyed by: ``$growthbook.<attribute>`` is keyed
    as GrowthBook keys its documents (``id`` is the user's own unit, another attribute
    ``<attribute>||<value>``), so both providers name a unit alike."""
    if unit.startswith(_GROWTHBOOK_UNIT):
        attribute = unit[len(_GROWTHBOOK_UNIT) :]
        return "user_id" if attribute == "id" else attribute
    return unit


@dataclass(frozen=True, slots=True)
class StickyPolicy:
    """Whether an experiment keeps units in their stored group, which stored
    assignments still count, and whose they are.

    :ivar sticky: False: the experiment's groups are never stored nor served from the store.
    :ivar version: the bucket version new assignments are stored with.
    :ivar min_version: flagport's rules: stored assignments of an older version are
        discarded (a fresh assignment is served and stored instead). GrowthBook's rules:
        a unit ever assigned at an older version is blocked.
    :ivar growthbook: GrowthBook's sticky-bucketing rules: only an assignment stored at
        ``version`` wins, and a blocked unit gets ``blocked`` (it is not enrolled).
    :ivar unit: the unit whose assignments these are (``user_id`` or a ``custom_ids`` key).
    :ivar fallback_unit: the unit used when ``unit`` is missing; its stored group counts
        when ``unit`` has none.
    :ivar blocked: the result a blocked unit gets (the experiment's "not in" result), or
        user -> that result (GrowthBook's rules: the experiment's later rules decide).
    :ivar unit_of: user -> the ``unit`` id, for units other than ``user_id`` and custom
        ids (an attribute such as ``$growthbook.id``); None: :meth:`User.unit`.
    :ivar fallback_of: likewise for ``fallback_unit``.
    :ivar served_first: GrowthBook's rules: ids of the rules before the experiment's
        sticky split; what they serve a unit is served as they say (the unit never
        reaches the split), and only the split's own assignments are stored.
    :ivar split_rule: the id of the rule holding the sticky split (None: ``groups``).
    :ivar entry: the name the unit's stored group is kept under (None: the experiment's).
    :ivar reaches: user -> whether the split rule's prerequisites and condition hold
        (GrowthBook's rules: a stored group counts only for a unit the rule applies to).
    """

    sticky: bool = True
    version: int = 0
    min_version: int = 0
    growthbook: bool = False
    unit: str = "user_id"
    fallback_unit: str | None = None
    blocked: ExperimentResult | Callable[[User], ExperimentResult] | None = None
    unit_of: UnitOf | None = None
    fallback_of: UnitOf | None = None
    served_first: frozenset[str] = frozenset()
    split_rule: str | None = None
    reaches: Callable[[User], bool] | None = None
    entry: str | None = None

    def keeps(self, stored: Assignment) -> bool:
        """Whether ``stored`` still wins over a fresh assignment."""
        if self.growthbook:
            return stored.version == self.version
        return self.min_version <= stored.version <= self.version

    def blocks(self, stored: Assignment) -> bool:
        """Whether ``stored`` keeps its unit out of the experiment (GrowthBook's rules: it
        was once assigned below the minimum version)."""
        return self.growthbook and stored.first_version < self.min_version

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

    def blocked_result(self, user: User, result: ExperimentResult) -> ExperimentResult:
        """What a blocked unit gets instead of ``result``."""
        blocked = self.blocked
        if blocked is None:
            return result
        return blocked(user) if callable(blocked) else blocked


#: Experiments a provider states nothing about: sticky, version 0, per user id.
DEFAULT_POLICY = StickyPolicy()


def sticky_policy(
    exp: Any,
    path: str,
    problems: list[tuple[str, str]],
    blocked: ExperimentResult | None = None,
    rules: Sequence[Any] = (),
    mode: str = "statsig",
) -> StickyPolicy:
    """The policy an experiment definition states (``sticky``, ``sticky_rules``,
    ``sticky_key``, ``bucket_version``, ``min_bucket_version``, ``unit``,
    ``fallback_unit``); a minimum
    above the version is a located problem.

    :param blocked: the experiment's result for a unit outside it.
    :param rules: the experiment's compiled rules (GrowthBook's rules: the sticky split is
        the first rule with a ``split``, else the groups).
    :param mode: the experiment's hash, which writes an attribute unit as text.
    """
    version: int = exp.bucket_version
    minimum: int | None = exp.min_bucket_version
    growthbook = exp.sticky_rules == "growthbook"
    if minimum is not None and minimum > version:
        problems.append(
            (
                f"{path}.min_bucket_version",
                f"min_bucket_version {minimum} is above bucket_version {version}; "
                "raise bucket_version or lower min_bucket_version",
            )
        )
        minimum = version
    if minimum is None:
        # flagport: raising the version alone reassigns everyone. GrowthBook: nobody is
        # blocked unless a minimum says so.
        minimum = 0 if growthbook else version
    served_first: frozenset[str] = frozenset()
    split_rule = None
    reaches = None
    blocks: ExperimentResult | Callable[[User], ExperimentResult] | None = blocked
    if growthbook and exp.rules:
        ids = [rule.id or f"rule_{i}" for i, rule in enumerate(exp.rules)]
        at = next((i for i, rule in enumerate(exp.rules) if rule.split is not None), len(ids))
        served_first = frozenset(ids[:at])
        if at < len(ids):
            split_rule = ids[at]
            if at < len(rules):
                reaches = _reaches(rules[at], exp.rules[at])
            if blocked is not None and at + 1 < len(rules):
                blocks = _later_rules(rules, at + 1, blocked)
    return StickyPolicy(
        sticky=exp.sticky is not False,
        version=version,
        min_version=minimum,
        growthbook=growthbook,
        unit=exp.unit,
        fallback_unit=exp.fallback_unit,
        blocked=blocks,
        unit_of=_attribute_unit(exp.unit, mode),
        fallback_of=_attribute_unit(exp.fallback_unit, mode),
        served_first=served_first,
        split_rule=split_rule,
        reaches=reaches,
        entry=exp.sticky_key,
    )


def _reaches(rule: Any, definition: Any) -> Callable[[User], bool] | None:
    """user -> whether a compiled rule's targeting holds (None: always): its
    prerequisites, its condition and the filters that name a unit of their own
    (GrowthBook's filters; a filter on the split's own unit is part of the split, as
    GrowthBook's namespace is, which a stored bucket skips)."""
    checks = tuple(rule.prerequisites or ())
    when = rule.when
    select = rule.select
    # A split rule's selector holds its filters in the order they are written (none for
    # a rule that failed to compile: the file is refused anyway).
    compiled_filters = select.filters if select is not None else ()
    filters = tuple(
        compiled
        for compiled, written in zip(compiled_filters, definition.filters, strict=False)
        if written.unit is not None
    )
    if not checks and when is None and not filters:
        return None

    def reaches(user: User) -> bool:
        for prerequisite in checks:
            if not prerequisite.holds(user):
                return False
        for bucket_set in filters:
            if not bucket_set.holds(user):
                return False
        return when is None or bool(when(user.attributes, user))

    return reaches


def _attribute_unit(unit: str | None, mode: str) -> UnitOf | None:
    """user -> the text of an attribute unit (``$growthbook.id``) as the split hashes it;
    None for ``user_id`` and custom ids (:meth:`User.unit` reads them)."""
    if unit is None or not unit.startswith("$"):
        return None
    from flagport.providers.local.units import unit_getter

    return unit_getter(unit, mode)


def _later_rules(
    rules: Sequence[Any], start: int, default: ExperimentResult
) -> Callable[[User], ExperimentResult]:
    """user -> what the experiment's rules from ``start`` on serve (GrowthBook continues
    with the next rule when a blocked unit is not enrolled), else ``default``."""
    from flagport.providers.local.rule_eval import first_match

    compiled = tuple(rules)

    def later(user: User) -> ExperimentResult:
        return first_match(compiled, user, default, default, start)  # type: ignore[no-any-return]

    return later
