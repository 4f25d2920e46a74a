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
    from flagport.results import ExperimentResult, JsonValue
    from flagport.sticky.engine import Stickiness
    from flagport.sticky.policy import StickyPolicy
    from flagport.user import User

__all__ = [
    "ENTRY_PREFIX",
    "GrowthBookSplit",
    "apply_growthbook",
    "document",
    "documented_group",
    "entry_name",
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
    :ivar force: the variant a ``force`` serves every unit the split places (None: none).
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
    force: int | None = None
    # Derived once: the entry of the current version, those below the minimum, each
    # group's index, how a unit's text becomes its store key, and the start of the
    # entries of every version.
    entry: str = field(init=False)
    below: tuple[str, ...] = field(init=False)
    by_group: Mapping[str, int] = field(init=False)
    unit_prefix: str = field(init=False)
    fallback_prefix: str = field(init=False)
    prefix: str = field(init=False)

    def __post_init__(self) -> None:
        versions = range(self.min_version)
        derived = {
            "entry": entry_name(f"{self.key}__{self.version}"),
            "below": tuple(entry_name(f"{self.key}__{v}") for v in versions),
            "by_group": {group: i for i, group in reversed(list(enumerate(self.groups)))},
            "unit_prefix": unit_key(store_unit(self.unit), ""),
            "fallback_prefix": unit_key(store_unit(self.fallback_unit or "user_id"), ""),
            "prefix": entry_name(f"{self.key}__"),
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

    def stored(self, entries: Mapping[str, Assignment], former: bool = True) -> str | None:
        """The variation ``entries`` hold at the split's version: its ``growthbook:``
        entry, else (``former``) the one an earlier local provider kept under the key."""
        found = entries.get(self.entry)
        if found is not None:
            return found.group
        kept = entries.get(self.key) if former else None
        if kept is not None and self.version in (kept.version, kept.first_version):
            return kept.group
        return None

    def blocks(self, entries: Mapping[str, Assignment], former: bool = True) -> bool:
        """GrowthBook's ``_is_blocked``: assigned at a version below the minimum."""
        if not self.below:
            return False
        for name in self.below:
            if name in entries:
                return True
        kept = entries.get(self.key) if former else None
        return kept is not None and kept.first_version < self.min_version

    def assigned(self, entries: Mapping[str, Assignment], former: bool = True) -> bool:
        """Whether ``entries`` hold an assignment of the split's key at any version."""
        if former and self.key in entries:
            return True
        return any(name.startswith(self.prefix) for name in entries)


_NONE: Mapping[str, Assignment] = {}


def apply_growthbook(
    sticky: Stickiness,
    policy: StickyPolicy,
    user: User,
    name: str,
    result: ExperimentResult,
    handed: tuple[str, str | None] | None = None,
) -> ExperimentResult:
    """``result`` (the provider's fresh answer) as GrowthBook's sticky bucketing serves
    it: each split the evaluation reaches in turn, with the unit's stored documents.

    :param handed: under a migration, the name of the migration's entry and the group it
        holds for the user, in this side's names (:mod:`flagport.sticky.handover`).
    """
    entry, carried = handed if handed is not None else (None, None)
    current = result
    positions = policy.positions
    for split in policy.splits:
        at = positions.get(current.rule_id) if current.rule_id else None
        if at is not None and at < split.index:
            return current  # a rule before the split decided: the unit never reached it
        found = _documents(sticky, split, user)
        if found is None:
            continue
        primary, fallback, own, theirs = found
        index = _stored_index(split, own, theirs, split.key != entry, carried)
        if index is None:  # blocked
            current = split.after(user) if at == split.index or split.fresh is None else current
            continue
        fresh = index < 0
        if not fresh and split.force is not None:
            # GrowthBook serves a forced variation to a unit with a stored bucket too (even
            # outside the coverage), and stores nothing: the stored bucket stays as it was.
            index = split.force
            if not split.passthrough[index]:
                return split.outcomes[index]  # type: ignore[no-any-return]
            if at == split.index:
                current = split.after(user)
            continue
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


def documented_group(
    sticky: Stickiness, policy: StickyPolicy, user: User, entry: str
) -> tuple[str, JsonValue] | None:
    """The group (and its value) GrowthBook's documents hold for ``user`` where a side
    bucketing by ``policy`` would serve it from the store: the splits the user reaches
    in turn, passing those that block him and stored passthrough variants; None at the
    first split that holds nothing for him (that side would bucket him afresh there).

    :param entry: the migration's entry, which is not an earlier local provider's.
    """
    for split in policy.splits:
        found = _documents(sticky, split, user)
        if found is None:
            continue
        index = _stored_index(split, found[2], found[3], split.key != entry)
        if index is None:
            continue
        if index < 0:
            return None
        if not split.passthrough[index]:
            return split.groups[index], split.outcomes[index].value
    return None


_Documents = tuple[str | None, str | None, Mapping[str, Assignment], Mapping[str, Assignment]]


def _documents(sticky: Stickiness, split: GrowthBookSplit, user: User) -> _Documents | None:
    """The unit keys and stored entries of ``user``'s unit and fallback unit, where the
    split applies to him (None: it is off, its rule does not apply, or he has neither)."""
    if not split.enabled or (split.reaches is not None and not split.reaches(user)):
        return None
    primary, fallback = split.units(user)
    if primary is None and fallback is None:
        return None  # GrowthBook skips an experiment without a hash value
    own = sticky.assignments(primary) if primary else _NONE
    theirs = sticky.assignments(fallback) if fallback else _NONE
    return primary, fallback, own, theirs


def _stored_index(
    split: GrowthBookSplit,
    own: Mapping[str, Assignment],
    theirs: Mapping[str, Assignment],
    former: bool,
    carried: str | None = None,
) -> int | None:
    """The variant the split's stored documents give the unit (the unit's own, else its
    fallback unit's); -1 when they hold none, None when they block him.

    :param former: whether an entry named by the split's key is an earlier local
        provider's (not when a migration's entry has that name).
    :param carried: a migration's group, kept by a split that never assigned the unit
        (at any version: once it did, a raised version reassigns as GrowthBook does).
    """
    if split.blocks(own, former) or split.blocks(theirs, former):
        return None
    stored = split.stored(own, former)
    if stored is None:
        stored = split.stored(theirs, former)
    if (
        stored is None
        and carried is not None
        and not split.assigned(own, former)
        and not split.assigned(theirs, former)
    ):
        stored = carried
    return split.by_group.get(stored, -1) if stored is not None else -1


def _fresh_index(split: GrowthBookSplit, user: User, current: ExperimentResult, at: Any) -> int:
    """The variant the split buckets the unit in afresh (-1: not in)."""
    if split.fresh is not None:
        return split.fresh(user)
    # The experiment's groups: the provider's result is their fresh assignment.
    if at is not None or not current.in_experiment or current.reason in NOT_STORED:
        return -1
    return split.by_group.get(current.group, -1) if current.group is not None else -1
