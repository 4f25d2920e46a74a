"""An experiment's sticky policy, as a flags file (or a vendor) states it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from flagport.results import ExperimentResult
    from flagport.sticky.store import Assignment
    from flagport.user import User

__all__ = ["DEFAULT_POLICY", "StickyPolicy", "sticky_policy"]


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
    :ivar blocked: the result a blocked unit gets (the experiment's "not in" result).
    """

    sticky: bool = True
    version: int = 0
    min_version: int = 0
    growthbook: bool = False
    unit: str = "user_id"
    fallback_unit: str | None = None
    blocked: ExperimentResult | None = None

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
        fallback = user.unit(self.fallback_unit) if self.fallback_unit is not None else None
        return user.unit(self.unit) or None, fallback or None


#: Experiments a provider states nothing about: sticky, version 0, per user id.
DEFAULT_POLICY = StickyPolicy()


def sticky_policy(
    exp: Any, path: str, problems: list[tuple[str, str]], blocked: ExperimentResult | None = None
) -> StickyPolicy:
    """The policy an experiment definition states (``sticky``, ``sticky_rules``,
    ``bucket_version``, ``min_bucket_version``, ``unit``, ``fallback_unit``); a minimum
    above the version is a located problem.

    :param blocked: the experiment's result for a unit outside it.
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
    return StickyPolicy(
        sticky=exp.sticky is not False,
        version=version,
        min_version=minimum,
        growthbook=growthbook,
        unit=exp.unit,
        fallback_unit=exp.fallback_unit,
        blocked=blocked,
    )
