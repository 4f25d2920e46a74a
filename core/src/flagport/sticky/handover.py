"""Sticky assignments handed over between the two sides of a migration.

Each side keeps the assignments it makes the way it would alone:

- a side bucketing by GrowthBook's rules (a flags file imported from GrowthBook) keeps
  GrowthBook's documents (:mod:`flagport.sticky.growthbook`);
- any other side (a vendor's SDK, a flagport file) has its groups kept vendor-neutrally
  in the migration's entry, named by the flag and holding the group as the new side
  names it (through the migration's ``group_map``).

So that a user keeps his group when a stage or ramp hands him to the other side, each
reads the other's: a GrowthBook side, at a split that never assigned the unit, keeps the
migration's group when the split has a variant of that name (and stores it as
GrowthBook's assignment); the other side, when the migration's entry holds nothing for
the user, serves the group GrowthBook's documents hold for him (and stores it in the
migration's entry).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from flagport.sticky.growthbook import apply_growthbook, documented_group
from flagport.sticky.policy import DEFAULT_POLICY, StickyPolicy
from flagport.sticky.store import Assignment

if TYPE_CHECKING:
    from flagport.results import ExperimentResult
    from flagport.sticky.engine import Stickiness
    from flagport.user import User

__all__ = ["Handover"]

_PolicyOf = Callable[[str], "StickyPolicy | None"]


def _growthbook_policy(side: Any) -> _PolicyOf:
    """name -> the side's policy when it buckets by GrowthBook's rules, else None."""
    of: _PolicyOf | None = getattr(side, "sticky_policy", None)

    def policy(name: str) -> StickyPolicy | None:
        found = of(name) if of is not None else None
        return found if found is not None and found.growthbook else None

    return policy


class Handover:
    """A migration's sides as its sticky assignments see them."""

    def __init__(self, migration: Any) -> None:
        from flagport.providers.migration.options import NEW, OLD

        self._migration = migration
        self._serves_new: Callable[[User, str], bool] = migration.serves_new
        self._old = _growthbook_policy(migration.sides[OLD])
        self._new = _growthbook_policy(migration.sides[NEW])

    def _renames(self, name: str) -> Mapping[str, str]:
        """The flag's old group name -> new group name (the migration's ``group_map``)."""
        found: Mapping[str, str] = self._migration.options.group_map.get(name) or {}
        return found

    def apply(
        self, sticky: Stickiness, user: User, name: str, result: ExperimentResult
    ) -> ExperimentResult:
        """``result`` of the side serving ``user`` now, with his stored group."""
        new = self._serves_new(user, name)
        serving, other = (self._new, self._old) if new else (self._old, self._new)
        policy = serving(name)
        if policy is not None:
            if not policy.sticky:
                return result
            return apply_growthbook(
                sticky, policy, user, name, result, (name, self._carried(sticky, user, name, new))
            )
        documented = other(name)
        if documented is None:
            return sticky.apply_policy(DEFAULT_POLICY, user, name, result)

        def handed() -> Assignment | None:
            found = documented_group(sticky, documented, user, name)
            if found is None:
                return None
            group, value = found
            if new:  # the documents are the old side's: stored as the new side names it
                group = self._renames(name).get(group, group)
            return Assignment(group, value, DEFAULT_POLICY.version)

        return sticky.apply_policy(DEFAULT_POLICY, user, name, result, handed)

    def _carried(self, sticky: Stickiness, user: User, name: str, new: bool) -> str | None:
        """The group the migration's entry holds for ``user``, as the serving side names
        it (the old side: renamed back through the group map)."""
        unit = user.user_id
        stored = sticky.assignments(DEFAULT_POLICY.key(unit)).get(name) if unit else None
        if stored is None or not DEFAULT_POLICY.keeps(stored):
            return None
        if new:
            return stored.group
        back = {to: was for was, to in self._renames(name).items()}
        return back.get(stored.group, stored.group)
