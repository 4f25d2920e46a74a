"""GrowthBook's sticky bucketing (``sticky_rules: growthbook``), on the store entries
GrowthBook's own SDK keeps through the ``growthbook`` provider.

The one format both providers read and write: GrowthBook's sticky-bucket document
``{"attributeName", "attributeValue", "assignments": {"<experiment key>__<bucket
version>": "<variation key>"}}`` is the store unit :func:`~flagport.sticky.policy.unit_key`
names (the user's own unit for the attribute ``id``, else ``"<attribute>||<value>"``,
as the SDK keys documents), and each of its assignments one entry
``growthbook:<experiment key>__<bucket version>`` holding the variation key
(``{"group": <variation key>, "value": {}, "version": <bucket version>}``). An entry an
earlier local provider wrote (named by the experiment key, with its bucket version and
the lowest version it ever assigned) is read as the assignments it stands for.

Every split of an experiment is sticky under its own key, as every experiment rule of
a GrowthBook feature is: a unit the evaluation brings to a split (the rules before it
served nothing, the split's rule applies to it) gets its stored variation at the
split's bucket version, goes on to the next rule when that variation is a passthrough
one or when it was ever assigned below the split's minimum version (blocked), else is
bucketed afresh; every assignment the split makes, passthrough included, is stored.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from flagport.scope import current_scope
from flagport.sticky.store import NOT_STORED, Assignment
from flagport.sticky.units import store_unit, unit_key

if TYPE_CHECKING:
    from flagport.results import ExperimentResult
    from flagport.sticky.engine import Stickiness
    from flagport.sticky.policy import StickyPolicy
    from flagport.user import User

__all__ = [
    "ENTRY_PREFIX",
    "GrowthBookSplit",
    "apply_growthbook",
    "document",
    "entry_name",
    "serving_side_policy",
]

#: Names the store entries that hold GrowthBook's assignments.
ENTRY_PREFIX = "growthbook:"


def entry_name(assignment_key: str) -> str:
    """The store entry of GrowthBook's assignment key ``"<experiment key>__<version>"``."""
    return ENTRY_PREFIX + assignment_key


def assignment_version(assignment_key: str) -> int:
    """The bucket version in an assignment key ``"<experiment key>__<version>"``."""
    _, _, tail = assignment_key.rpartition("__")
    return int(tail) if tail.isdigit() else 0


def document(entries: Mapping[str, Assignment]) -> dict[str, str]:
    """The assignments of GrowthBook's document in a unit's ``entries``: its
    ``growthbook:`` entries, then (where they name no other) those an earlier local
    provider's entries stand for: ``<key>__<version>``, and ``<key>__<first>`` for the
    lowest version ever assigned (what blocking needs)."""
    found: dict[str, str] = {}
    former: dict[str, str] = {}
    for name, assignment in entries.items():
        if name.startswith(ENTRY_PREFIX):
            found[name[len(ENTRY_PREFIX) :]] = assignment.group
            continue
        former[f"{name}__{assignment.version}"] = assignment.group
        if assignment.first_version < assignment.version:
            former.setdefault(f"{name}__{assignment.first_version}", assignment.group)
    for key, group in former.items():
        found.setdefault(key, group)
    return found


@dataclass(frozen=True, slots=True)
class GrowthBookSplit:
    """One sticky split of an experiment: an experiment rule of a GrowthBook feature.

    :ivar index: the rule's index (the number of rules for the experiment's ``groups``).
    :ivar key: GrowthBook's experiment key, which names the stored entries.
    :ivar version: ``bucketVersion``; :ivar min_version: ``minBucketVersion``.
    :ivar enabled: False: ``disableStickyBucketing`` (bucketed afresh, nothing stored).
    :ivar unit: the unit hashed; :ivar fallback_unit: GrowthBook's ``fallbackAttribute``.
    :ivar unit_of: user -> the unit's text; :ivar fallback_of: likewise.
    :ivar groups: each variant's group; :ivar passthrough: whether it sends units on.
    :ivar outcomes: each variant's result (None for a passthrough one).
    :ivar fresh: user -> the variant index bucketing gives (-1: not in); None: the
        experiment's ``groups``, whose fresh assignment is the provider's result.
    :ivar after: user -> what the rules after the split serve (the ``groups``: the
        experiment's result for a unit not in it).
    :ivar reaches: user -> whether the split's rule applies (prerequisites, condition,
        filters naming a unit of their own); None: always.
    """

    index: int
    key: str
    version: int
    min_version: int
    enabled: bool
    unit: str
    fallback_unit: str | None
    unit_of: Callable[[User], str | None]
    fallback_of: Callable[[User], str | None] | None
    groups: tuple[str, ...]
    passthrough: tuple[bool, ...]
    outcomes: tuple[Any, ...]
    fresh: Callable[[User], int] | None
    after: Callable[[User], ExperimentResult]
    reaches: Callable[[User], bool] | None = None
    # Derived once: the entry of the current version, those below the minimum, each
    # group's index, and how a unit's text becomes its store key.
    entry: str = field(init=False)
    below: tuple[str, ...] = field(init=False)
    by_group: Mapping[str, int] = field(init=False)
    unit_prefix: str = field(init=False)
    fallback_prefix: str = field(init=False)

    def __post_init__(self) -> None:
        versions = range(self.min_version)
        derived = {
            "entry": entry_name(f"{self.key}__{self.version}"),
            "below": tuple(entry_name(f"{self.key}__{v}") for v in versions),
            "by_group": {group: i for i, group in reversed(list(enumerate(self.groups)))},
            "unit_prefix": unit_key(store_unit(self.unit), ""),
            "fallback_prefix": unit_key(store_unit(self.fallback_unit or "user_id"), ""),
        }
        for name, value in derived.items():
            object.__setattr__(self, name, value)

    def units(self, user: User) -> tuple[str | None, str | None]:
        """The user's unit keys in the store for ``unit`` and ``fallback_unit``."""
        primary = self.unit_of(user)
        of = self.fallback_of
        fallback = of(user) if of is not None else None
        return (
            self.unit_prefix + primary if primary else None,
            self.fallback_prefix + fallback if fallback else None,
        )

    def stored(self, entries: Mapping[str, Assignment]) -> str | None:
        """The variation ``entries`` hold at the split's version: its ``growthbook:``
        entry, else the one an earlier local provider kept under the key."""
        found = entries.get(self.entry)
        if found is not None:
            return found.group
        former = entries.get(self.key)
        if former is not None and self.version in (former.version, former.first_version):
            return former.group
        return None

    def blocks(self, entries: Mapping[str, Assignment]) -> bool:
        """GrowthBook's ``_is_blocked``: assigned at a version below the minimum."""
        if not self.below:
            return False
        for name in self.below:
            if name in entries:
                return True
        former = entries.get(self.key)
        return former is not None and former.first_version < self.min_version


_NONE: Mapping[str, Assignment] = {}


def apply_growthbook(
    sticky: Stickiness, policy: StickyPolicy, user: User, name: str, result: ExperimentResult
) -> ExperimentResult:
    """``result`` (the provider's fresh answer) as GrowthBook's sticky bucketing serves
    it: each split the evaluation reaches in turn, with the unit's stored documents."""
    current = result
    positions = policy.positions
    for split in policy.splits:
        at = positions.get(current.rule_id) if current.rule_id else None
        if at is not None and at < split.index:
            return current  # a rule before the split decided: the unit never reached it
        if not split.enabled or (split.reaches is not None and not split.reaches(user)):
            continue
        primary, fallback = split.units(user)
        if primary is None and fallback is None:
            continue  # GrowthBook skips an experiment without a hash value
        own = sticky.assignments(primary) if primary else _NONE
        theirs = sticky.assignments(fallback) if fallback else _NONE
        if split.blocks(own) or split.blocks(theirs):
            current = split.after(user) if at == split.index or split.fresh is None else current
            continue
        stored = split.stored(own)
        if stored is None:
            stored = split.stored(theirs)
        index = split.by_group.get(stored, -1) if stored is not None else -1
        fresh = index < 0
        if fresh:
            index = _fresh_index(split, user, current, at)
        if index >= 0:
            group = split.groups[index]
            unit, doc = (primary, own) if primary else (fallback, theirs)
            if unit is not None and split.stored(doc) != group:
                sticky.remember(unit, split.entry, Assignment(group, {}, split.version))
        if index < 0 or split.passthrough[index]:
            if not fresh and at == split.index:
                current = split.after(user)  # the fresh answer stopped here; the stored one goes on
            continue
        if fresh:
            return current
        outcome = split.outcomes[index]
        served = sticky._served_result(outcome, split.groups[index], outcome.value)
        active = current_scope()
        if active is not None and active.user is user:
            # Served again without this walk while the provider answers with ``result``.
            active.sticky_served[sticky, name] = (result, served)
        return served
    return current


def _fresh_index(split: GrowthBookSplit, user: User, current: ExperimentResult, at: Any) -> int:
    """The variant the split buckets the unit in afresh (-1: not in)."""
    if split.fresh is not None:
        return split.fresh(user)
    # The experiment's groups: the provider's result is their fresh assignment.
    if at is not None or not current.in_experiment or current.reason in NOT_STORED:
        return -1
    return split.by_group.get(current.group, -1) if current.group is not None else -1


def serving_side_policy(migration: Any) -> Callable[[User, str], StickyPolicy | None]:
    """(user, experiment) -> the policy of the ``migration`` side serving the user when
    that side buckets by GrowthBook's rules on the store (an imported GrowthBook file),
    else None: the groups either side serves are kept vendor-neutrally, renamed by the
    migration's ``group_map``."""
    from flagport.providers.migration.options import NEW, OLD

    sides, serves_new = migration.sides, migration.serves_new

    def policy(user: User, name: str) -> StickyPolicy | None:
        side = sides[NEW if serves_new(user, name) else OLD]
        of = getattr(side, "sticky_policy", None)
        found: StickyPolicy | None = of(name) if of is not None else None
        return found if found is not None and found.growthbook else None

    return policy
