"""An experiment's sticky policy, as a flags file (or a vendor) states it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

__all__ = ["DEFAULT_POLICY", "StickyPolicy", "sticky_policy"]


@dataclass(frozen=True, slots=True)
class StickyPolicy:
    """Whether an experiment keeps units in their stored group, and which stored
    assignments still count.

    :ivar sticky: False: the experiment's groups are never stored nor served from the store.
    :ivar version: the bucket version new assignments are stored with.
    :ivar min_version: stored assignments of an older version are discarded (a fresh
        assignment is served and stored instead).
    """

    sticky: bool = True
    version: int = 0
    min_version: int = 0

    def keeps(self, stored_version: int) -> bool:
        """Whether an assignment stored at ``stored_version`` still wins."""
        return self.min_version <= stored_version <= self.version


#: Experiments a provider states nothing about: sticky, version 0.
DEFAULT_POLICY = StickyPolicy()


def sticky_policy(exp: Any, path: str, problems: list[tuple[str, str]]) -> StickyPolicy | None:
    """The policy an experiment definition states (``sticky``, ``bucket_version``,
    ``min_bucket_version``), or None when it states none; a minimum above the version
    is a located problem.
    """
    version: int = exp.bucket_version
    minimum: int | None = exp.min_bucket_version
    if minimum is not None and minimum > version:
        problems.append(
            (
                f"{path}.min_bucket_version",
                f"min_bucket_version {minimum} is above bucket_version {version}; "
                "raise bucket_version or lower min_bucket_version",
            )
        )
        minimum = version
    if exp.sticky is None and version == 0 and minimum is None:
        return None
    return StickyPolicy(
        sticky=exp.sticky is not False,
        version=version,
        min_version=version if minimum is None else minimum,
    )
