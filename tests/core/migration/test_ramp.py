"""Deterministic per-unit ramps."""

from __future__ import annotations

from flagport.providers.migration.ramp import BUCKETS, in_ramp, threshold, unit_point

UNITS = [f"user-{i}" for i in range(10_000)]


def covered(flag: str, pct: float) -> set[str]:
    limit = threshold(pct)
    return {u for u in UNITS if in_ramp(unit_point(flag, u), limit)}


def test_points_are_stable_and_in_range() -> None:
    assert unit_point("f", "user-1") == unit_point("f", "user-1")
    assert all(0 <= unit_point("f", u) < BUCKETS for u in UNITS[:100])


def test_share_follows_the_percentage() -> None:
    for pct in (1, 10, 50, 90):
        share = len(covered("f", pct)) / len(UNITS)
        assert abs(share - pct / 100) < 0.02


def test_growing_a_ramp_keeps_every_unit_already_in_it() -> None:
    assert covered("f", 10) <= covered("f", 25) <= covered("f", 60)


def test_flags_ramp_different_units() -> None:
    a, b = covered("checkout", 30), covered("search", 30)
    overlap = len(a & b) / len(a)
    assert 0.25 < overlap < 0.35  # about 30 %: independent, not the same users


def test_thresholds() -> None:
    assert (threshold(0), threshold(0.01), threshold(50), threshold(100)) == (0, 1, 5000, BUCKETS)
    assert covered("f", 0) == set()
    assert covered("f", 100) == set(UNITS)
