"""Deterministic per-unit ramps: which units the new provider serves.

A unit is hashed once (the point is cached on the :class:`~flagport.User`) and each
flag shifts the window by its own offset, so different flags ramp different users
while one flag keeps every user on the same side as the percentage grows: a unit
served by the new provider at 10 % is still served by it at 50 %.
"""

from __future__ import annotations

import hashlib

__all__ = ["BUCKETS", "flag_offset", "in_ramp", "threshold", "unit_point"]

BUCKETS = 10_000
"""Resolution of a ramp: 0.01 %."""


def _u64(text: str) -> int:
    return int.from_bytes(hashlib.blake2b(text.encode("utf-8"), digest_size=8).digest(), "big")


def unit_point(unit: str) -> int:
    """The unit's position, the same for every flag and every process."""
    return _u64("unit." + unit) % BUCKETS


def flag_offset(flag: str) -> int:
    """How far the flag's window is shifted, so flags ramp different units."""
    return _u64("flag." + flag) % BUCKETS


def threshold(percentage: float) -> int:
    """The number of buckets (out of :data:`BUCKETS`) a percentage covers."""
    return max(0, min(BUCKETS, round(percentage * BUCKETS / 100)))


def in_ramp(point: int, offset: int, covered: int) -> bool:
    """Whether a unit at ``point`` is inside a flag's ramp of ``covered`` buckets."""
    return (point + offset) % BUCKETS < covered
