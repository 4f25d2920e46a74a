"""Deterministic per-unit ramps."""

from __future__ import annotations

import math
import statistics

import pytest

from flagport.providers.migration.options import Stage
from flagport.providers.migration.ramp import (
    BUCKETS,
    Route,
    in_ramp,
    threshold,
    unit_point,
)

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


@pytest.mark.parametrize("rate", [0.5, 0.1, 0.01])
def test_gaps_between_compared_evaluations_are_those_of_a_draw_per_call(rate: float) -> None:
    # Comparing each evaluation with probability p leaves geometric gaps: mean (1-p)/p,
    # variance (1-p)/p^2. A sampler comparing every 1/p-th call has the mean, not the
    # spread, and would compare in lockstep with periodic traffic.
    route = Route("f", Stage.SHADOW, None, "user_id", rate)
    gaps = [route.gap() for _ in range(20_000)]
    mean, variance = (1 - rate) / rate, (1 - rate) / rate**2
    assert abs(statistics.fmean(gaps) - mean) < 4 * math.sqrt(variance / len(gaps))
    assert 0.8 < statistics.pvariance(gaps) / variance < 1.2
    assert min(gaps) == 0


def test_a_route_that_compares_nothing_or_everything_never_draws() -> None:
    assert Route("f", Stage.SHADOW, None, "user_id", 0.0).gap() == math.inf
    assert Route("f", Stage.FROM, None, "user_id", 1.0).gap() == math.inf
    assert Route("f", Stage.SHADOW, None, "user_id", 1.0).gap() == 0
