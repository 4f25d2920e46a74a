"""Compiled rules and the loop that evaluates them, for gates, configs and experiments.

A compiled :class:`Rule` holds everything fixed at load time: its condition, its
prerequisites, how it picks units (a :class:`Percentage`, or a :class:`Selector` for
ranges, filters and splits) and every result it can serve, built in advance. What a
unit outside the rollout gets is ``rule.miss``: a prebuilt result, :data:`NEXT` (try
the next rule), :data:`DEFAULT` (the flag's default) or an ``int`` (continue at that
later rule's index).

A version-1 rule (``when`` plus ``pass_percentage``) compiles to the same two slots it
always had, so the simple path costs what it did.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from flagport.providers.local.bucketing import Bucketer, select_range
from flagport.providers.local.units import UnitGetter

if TYPE_CHECKING:
    from flagport.providers.local.compiled import Percentage
    from flagport.providers.local.conditions import Condition
    from flagport.user import User

__all__ = [
    "DEFAULT",
    "NEXT",
    "Filter",
    "Prerequisite",
    "Rule",
    "Selector",
    "first_match",
    "one_rule_value",
]


class _Marker:
    __slots__ = ("name",)

    def __init__(self, name: str) -> None:
        self.name = name

    def __repr__(self) -> str:
        return self.name


NEXT = _Marker("NEXT")
"""A rule's outcome meaning: try the next rule."""
DEFAULT = _Marker("DEFAULT")
"""A rule's outcome meaning: serve the flag's default."""


_COMPLEX = _Marker("COMPLEX")


class Prerequisite:
    """A condition on another flag's value.

    :ivar value_of: user -> the other flag's value (late-bound to the snapshot).
    :ivar when: the compiled condition on ``{"value": value}``.
    :ivar gate: a failure ends the evaluation with the flag's default.
    :ivar expected: for a condition ``{"value": <a boolean or string>}`` under
        GrowthBook's matching (an exact comparison), that literal; it is compared
        directly, since prerequisite chains are evaluated on every call.
    :ivar check: user -> whether the condition holds; once :meth:`bind` has pointed
        it at the compiled flag, a closure made for this one comparison (a chain
        of prerequisites pays a gate evaluation per link, not the lookups around it).
    """

    __slots__ = ("check", "expected", "flag", "gate", "target", "value_of", "when")

    def __init__(
        self,
        flag: str,
        value_of: Callable[[User], Any],
        when: Condition,
        gate: bool,
        expected: Any = _COMPLEX,
    ) -> None:
        self.flag = flag
        self.value_of = value_of
        self.when = when
        self.gate = gate
        self.expected = expected
        self.target: Any = None  # the compiled flag, bound once every flag is compiled
        self.check = _checker(value_of, expected, when)

    def bind(self, target: Any, value_of: Callable[[User], Any]) -> None:
        """Point at the compiled flag ``target``, whose value ``value_of`` reads directly."""
        self.target = target
        self.check = _checker(value_of, self.expected, self.when)

    def holds(self, user: User) -> bool:
        """Whether the other flag's value for ``user`` satisfies the condition."""
        return self.check(user)


def one_rule_value(rules: tuple[Rule, ...], default: Any) -> Callable[[User], Any] | None:
    """user -> the value :func:`first_match` serves for ``rules`` (``default`` is the
    value of the flag's default result), made for the shape a prerequisite chain's
    links usually have: one rule, buckets nothing. None for any other shape.

    Its prerequisites and condition decide alone: a failing prerequisite, gating or
    not, leaves no later rule to try, so the default is served either way.
    """
    if len(rules) != 1:
        return None
    rule = rules[0]
    if rule.select is not None or rule.percentage is not None or rule.hit is None:
        return None
    checks = rule.prerequisites or ()
    when = rule.when
    value = rule.hit.value
    if not checks:
        if when is None:
            return lambda user: value
        condition = when  # narrowed to a condition for the closure

        def by_condition(user: User) -> Any:
            return value if condition(user.attributes, user) else default

        return by_condition

    def by_prerequisites(user: User) -> Any:
        for prerequisite in checks:
            if not prerequisite.check(user):
                return default
        return value if when is None or when(user.attributes, user) else default

    return by_prerequisites


def _checker(
    value_of: Callable[[User], Any], expected: Any, when: Condition
) -> Callable[[User], bool]:
    """user -> whether the flag's value satisfies the prerequisite: an identity test
    for an expected boolean, a type and equality test for a string, else ``when``."""
    if expected is True or expected is False:

        def check_identity(user: User) -> bool:
            return value_of(user) is expected

        return check_identity
    if expected is not _COMPLEX:
        kind = type(expected)

        def check_equal(user: User) -> bool:
            value = value_of(user)
            return type(value) is kind and value == expected

        return check_equal

    def check_condition(user: User) -> bool:
        return bool(when({"value": value_of(user)}, user))

    return check_condition


class Filter:
    """A bucket set: the unit's position for ``seed`` must lie in one of ``ranges``."""

    __slots__ = ("bucketer", "ranges", "seed", "unit")

    def __init__(
        self,
        unit: UnitGetter,
        bucketer: Bucketer,
        seed: str,
        ranges: Sequence[tuple[float, float]],
    ) -> None:
        self.unit = unit
        self.bucketer = bucketer
        self.seed = seed
        self.ranges = tuple(ranges)

    def holds(self, user: User) -> bool:
        """Whether the user's unit falls in one of the ranges (never without a unit)."""
        unit = self.unit(user)
        if unit is None:
            return False
        # A unit a vendor never buckets ("" under GrowthBook) is at -1: in no range.
        position = self.bucketer.experiment_bucket(self.seed, unit)
        return select_range(position, self.ranges) is not None


class Selector:
    """Picks what a rule serves a unit: a range rollout or a split (weights or ranges).

    :ivar choose: unit text -> index into ``outcomes`` or -1 (memoised per unit).
    :ivar outcomes: one prebuilt result per variant (:data:`NEXT` for passthrough).
    :ivar force: the index served instead to any unit that ``choose`` places.
    """

    __slots__ = (
        "choose",
        "filters",
        "force",
        "memo",
        "outcomes",
        "position",
        "ranges",
        "remember",
        "unit",
    )

    def __init__(
        self,
        *,
        unit: UnitGetter,
        choose: Callable[[str], int],
        outcomes: Sequence[Any],
        filters: Sequence[Filter] = (),
        force: int | None = None,
        position: Callable[[str], float] | None = None,
        ranges: Sequence[tuple[float, float]] = (),
        memo: dict[str, Any] | None = None,
        remember: Callable[[Any, str, Any], None] | None = None,
    ) -> None:
        self.unit = unit
        self.choose = choose
        # For `flagport explain` only: the unit's bucket and the ranges it is held against.
        self.position = position
        self.ranges = tuple(ranges)
        self.outcomes = tuple(outcomes)
        self.filters = tuple(filters)
        self.force = force
        # The process-wide memo budget lives in compiled.py, which imports this module,
        # so the rule compiler hands its memo in; without one nothing is remembered.
        self.memo = {} if memo is None else memo
        self.remember = remember or _forget

    def index(self, user: User) -> int:
        """The variant index for ``user``, -1 when outside (no unit, filters, coverage)."""
        unit = self.unit(user)
        if unit is None:
            return -1
        for bucket_set in self.filters:
            if not bucket_set.holds(user):
                return -1
        found: int | None = self.memo.get(unit)
        if found is None:
            found = self.choose(unit)
            self.remember(self.memo, unit, found)
        if found >= 0 and self.force is not None:
            return self.force
        return found

    def __call__(self, user: User) -> Any:
        """The prebuilt outcome for ``user``, or None when outside."""
        index = self.index(user)
        return None if index < 0 else self.outcomes[index]


def _forget(memo: Any, unit: str, value: Any) -> None:
    return None


class Rule:
    """A compiled rule of any flag.

    :ivar when: the compiled condition, or None for everyone.
    :ivar prerequisites: None, or the conditions on other flags checked first.
    :ivar percentage: a version-1 pass percentage (None: everyone, or see ``select``).
    :ivar select: picks the outcome for ranges and splits (None: ``hit``).
    :ivar hit: the result served when the rule passes (no ``select``).
    :ivar miss: what a unit outside gets: a result, :data:`NEXT`, :data:`DEFAULT` or
        the index of a later rule.
    """

    __slots__ = ("hit", "id", "miss", "percentage", "prerequisites", "select", "when")

    def __init__(
        self,
        id: str,
        when: Condition | None,
        percentage: Percentage | None,
        hit: Any,
        miss: Any,
        *,
        select: Selector | None = None,
        prerequisites: tuple[Prerequisite, ...] | None = None,
    ) -> None:
        self.id = id
        self.when = when
        self.percentage = percentage
        self.hit = hit
        self.miss = miss
        self.select = select
        self.prerequisites = prerequisites


def first_match(
    rules: tuple[Rule, ...], user: User, default: Any, gated: Any = None, start: int = 0
) -> Any:
    """The outcome of the rules for ``user``, else ``default``.

    The first rule whose prerequisites and condition hold decides, unless the unit is
    outside its rollout and the rule's ``miss`` sends it on (:data:`NEXT`, a later
    rule) or a passthrough variant does.

    :param gated: served when a gating prerequisite fails (defaults to ``default``).
    :param start: the index of the first rule tried.
    """
    attributes: Mapping[str, Any] | None = None  # built on first need
    index = start
    count = len(rules)
    while index < count:
        rule = rules[index]
        index += 1
        prerequisites = rule.prerequisites
        if prerequisites is not None:
            failed = None
            for prerequisite in prerequisites:
                if not prerequisite.check(user):
                    failed = prerequisite
                    break
            if failed is not None:
                if not failed.gate:
                    continue
                return default if gated is None else gated
        when = rule.when
        if when is not None:
            if attributes is None:
                attributes = user.attributes
            if not when(attributes, user):
                continue
        select = rule.select
        if select is not None:
            outcome = select(user)
            if outcome is NEXT:
                continue
            if outcome is not None:
                return outcome
        else:
            percentage = rule.percentage
            if percentage is None or percentage.passes(user):
                return rule.hit
        miss = rule.miss
        if miss is NEXT:
            continue
        if miss is DEFAULT:
            return default
        if type(miss) is int:
            index = miss
            continue
        return miss
    return default
