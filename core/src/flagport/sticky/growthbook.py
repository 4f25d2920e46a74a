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
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from flagport.reasons import Reason
from flagport.sticky.store import Assignment
from flagport.sticky.units import store_unit, unit_key

if TYPE_CHECKING:
    from flagport.results import ExperimentResult
    from flagport.sticky.engine import Stickiness
    from flagport.sticky.policy import StickyPolicy
    from flagport.user import User

__all__ = ["ENTRY_PREFIX", "GrowthBookSplit", "apply_growthbook", "document", "entry_name"]

#: Names the store entries that hold GrowthBook's assignments.
ENTRY_PREFIX = "growthbook:"
#: Reasons whose group is not a split's own assignment.
_NOT_STORED = frozenset({Reason.ERROR, Reason.OVERRIDE, Reason.STICKY})


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
    :ivar unit_of: user -> the unit's text (attribute units); None: :meth:`User.unit`.
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
    unit_of: Callable[[User], str | None] | None
    fallback_of: Callable[[User], str | None] | None
    groups: tuple[str | None, ...]
    passthrough: tuple[bool, ...]
    outcomes: tuple[Any, ...]
    fresh: Callable[[User], int] | None
    after: Callable[[User], ExperimentResult]
    reaches: Callable[[User], bool] | None = None

    def units(self, user: User) -> tuple[str | None, str | None]:
        """The user's unit keys in the store for ``unit`` and ``fallback_unit``."""
        primary = self.unit_of(user) if self.unit_of is not None else user.unit(self.unit)
        fallback = None
        if self.fallback_unit is not None:
            of = self.fallback_of
            fallback = of(user) if of is not None else user.unit(self.fallback_unit)
        return (
            unit_key(store_unit(self.unit), primary) if primary else None,
            unit_key(store_unit(self.fallback_unit), fallback)
            if fallback and self.fallback_unit
            else None,
        )

    def blocked(self, assignments: Mapping[str, str]) -> bool:
        """GrowthBook's ``_is_blocked``: assigned at a version below the minimum."""
        return any(f"{self.key}__{v}" in assignments for v in range(self.min_version))


def apply_growthbook(
    sticky: Stickiness, policy: StickyPolicy, user: User, result: ExperimentResult
) -> ExperimentResult:
    """``result`` (the provider's fresh answer) as GrowthBook's sticky bucketing serves
    it: each split the evaluation reaches in turn, with the unit's stored documents."""
    current = result
    for split in policy.splits:
        at = policy.positions.get(current.rule_id or "") if current.rule_id else None
        if at is not None and at < split.index:
            return current  # a rule before the split decided: the unit never reached it
        if not split.enabled or (split.reaches is not None and not split.reaches(user)):
            continue
        primary, fallback = split.units(user)
        if primary is None and fallback is None:
            continue  # GrowthBook skips an experiment without a hash value
        own = document(sticky.assignments(primary)) if primary else {}
        theirs = document(sticky.assignments(fallback)) if fallback else {}
        assigned = f"{split.key}__{split.version}"
        if split.blocked({**theirs, **own}):
            current = split.after(user) if at == split.index or split.fresh is None else current
            continue
        stored = own.get(assigned, theirs.get(assigned))
        index = split.groups.index(stored) if stored in split.groups else -1
        fresh = index < 0
        if fresh:
            index = _fresh_index(split, user, current, at)
        if index >= 0:
            group = split.groups[index] or str(index)
            unit, doc = (primary, own) if primary else (fallback, theirs)
            if unit is not None and doc.get(assigned) != group:
                doc[assigned] = group
                sticky.remember(unit, entry_name(assigned), Assignment(group, {}, split.version))
        if index < 0 or split.passthrough[index]:
            if not fresh and at == split.index:
                current = split.after(user)  # the fresh answer stopped here; the stored one goes on
            continue
        if fresh:
            return current
        outcome = split.outcomes[index]
        return sticky._served_result(outcome, split.groups[index] or str(index), outcome.value)
    return current


def _fresh_index(split: GrowthBookSplit, user: User, current: ExperimentResult, at: Any) -> int:
    """The variant the split buckets the unit in afresh (-1: not in)."""
    if split.fresh is not None:
        return split.fresh(user)
    # The experiment's groups: the provider's result is their fresh assignment.
    if at is not None or not current.in_experiment or current.reason in _NOT_STORED:
        return -1
    return split.groups.index(current.group) if current.group in split.groups else -1
