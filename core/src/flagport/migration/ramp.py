"""Deterministic per-unit ramps: which units the new provider serves.

Each (flag, unit) pair has a fixed point in ``[0, BUCKETS)``; a ramp of *p* % covers
the points below ``p * BUCKETS / 100``. So one flag keeps every unit on the same side
as the percentage grows (a unit served by the new provider at 10 % is still served by
it at 50 %), and different flags ramp independent sets of units.
"""

from __future__ import annotations

import hashlib

__all__ = ["BUCKETS", "in_ramp", "threshold", "unit_point"]

BUCKETS = 10_000
"""Resolution of a ramp: 0.01 %."""


def unit_point(flag: str, unit: str) -> int:
    """The unit's position for the flag: the same in every process and every run."""
    digest = hashlib.blake2b(f"{flag}.{unit}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big") % BUCKETS


def threshold(percentage: float) -> int:
    """The number of buckets (out of :data:`BUCKETS`) a percentage covers."""
    return max(0, min(BUCKETS, round(percentage * BUCKETS / 100)))


def in_ramp(point: int, covered: int) -> bool:
    """Whether a unit at ``point`` is inside a ramp of ``covered`` buckets."""
    return point < covered
