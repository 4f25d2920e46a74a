"""Segments: named sets of units that conditions test membership of.

A segment is written in the flags file as

- a list of ids (or other values): ``beta: [u1, u2]``, tested with
  ``{attribute: {$inGroup: beta}}``;
- ``{hashed_ids: [...]}``: the same, stored as Statsig stores ID lists (the first 8
  characters of the base64 SHA-256 of each id), so a list exported from Statsig keeps
  working without the ids themselves;
- ``{when: <condition>, included: [...], excluded: [...], unit: user_id}``: a segment
  with rules of its own (FeatBit segments, Statsig segments): a unit listed in
  ``excluded`` is out, one in ``included`` is in, otherwise the condition decides. It
  is tested with ``{$inSegment: name}`` at condition level.
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Collection
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, ConfigDict, Field

from flagport._field_defaults import new_list
from flagport.providers.local.bucketing import utf8
from flagport.providers.local.conditions.values import membership

if TYPE_CHECKING:
    from flagport.providers.local.conditions.options import Condition
    from flagport.providers.local.conditions.values import Predicate

__all__ = ["Segment", "SegmentDef", "members_test", "statsig_id_hash"]


class SegmentDef(BaseModel):
    """A segment written as a mapping: hashed ids, or rules with include/exclude lists."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    hashed_ids: list[str] | None = Field(
        default=None,
        description=(
            "Ids stored hashed the way Statsig stores ID lists: the first 8 characters "
            "of base64(SHA-256(id))."
        ),
    )
    when: dict[str, Any] | None = Field(
        default=None, description="The segment's condition (a unit matching it is in)."
    )
    included: list[str] = Field(
        default_factory=new_list, description="Units always in the segment."
    )
    excluded: list[str] = Field(
        default_factory=new_list, description="Units never in the segment (checked first)."
    )
    unit: str = Field(
        default="user_id",
        min_length=1,
        description="The id included/excluded list: user_id or a custom_ids key.",
    )


def statsig_id_hash(unit: str) -> str:
    """How Statsig stores an id in an ID list: 8 characters of base64 SHA-256."""
    return base64.b64encode(hashlib.sha256(utf8(unit)).digest()).decode()[:8]


@dataclass(frozen=True)
class Segment:
    """A compiled segment.

    :ivar members: the id list (plain or hashed), or None for a segment with rules.
    :ivar hashed: whether ``members`` holds Statsig id hashes.
    :ivar when: the segment's compiled condition (None: nobody matches by condition).
    """

    members: Collection[Any] | None = None
    hashed: bool = False
    when: Condition | None = None
    included: frozenset[str] = frozenset()
    excluded: frozenset[str] = frozenset()
    unit: str = "user_id"


def members_test(segment: Segment, semantics: str) -> Predicate:
    """Membership of a value in a segment's id list (plain or hashed)."""
    members = segment.members or ()
    if not segment.hashed:
        return membership(members, insensitive=False)
    hashes = frozenset(members)

    # Statsig hashes a boolean's text ("true"); other semantics never hold one.
    no_bools = semantics != "statsig"

    def in_hashed(value: Any) -> bool:
        if value is None or (no_bools and isinstance(value, bool)):
            return False
        text = value if isinstance(value, str) else _statsig_text(value)
        return text is not None and statsig_id_hash(text) in hashes

    return in_hashed


def _statsig_text(value: Any) -> str | None:
    from flagport.providers.local.conditions.statsig import statsig_string

    return statsig_string(value)
