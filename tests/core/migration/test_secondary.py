"""The secondary's circuit breaker and worker, on their own."""

from __future__ import annotations

import threading
from typing import Any

from flagport.migration.secondary import PROBATION, TRIP_AFTER, SecondaryRunner

MS = 1_000_000


def runner(mode: str = "auto", cost_ns: int = 1000, **kw: Any) -> SecondaryRunner:
    def run(job: tuple[Any, ...]) -> tuple[int, int]:
        return job[0], cost_ns

    return SecondaryRunner(mode, 10.0, kw.get("cooldown", 0.0), kw.get("size", 64), ("a", "b"), run)


def test_modes_start_where_they_say() -> None:
    assert runner("inline").inline == [True, True]
    assert runner("offload").inline == [False, False]
    assert runner("auto").inline == [False, False]  # on probation


def test_auto_promotes_after_a_run_of_fast_offloaded_evaluations() -> None:
    r = runner()
    for _ in range(PROBATION - 1):
        r.offload((1,))
    assert r.drain(5)
    assert r.inline == [False, False]
    r.offload((1,))
    assert r.drain(5)
    assert r.inline == [False, True]
    r.stop()


def test_slow_offloaded_evaluations_never_promote() -> None:
    r = runner(cost_ns=5 * MS)  # half the bound: not "well under" it
    for _ in range(PROBATION * 2):
        r.offload((0,))
    assert r.drain(5)
    assert r.inline == [False, False]
    r.stop()


def test_two_slow_inline_evaluations_in_a_row_trip_one_does_not() -> None:
    r = runner("inline")
    r.auto = True
    r.measured(1, 50 * MS)
    r.measured(1, 1 * MS)  # the streak is broken
    r.measured(1, 50 * MS)
    assert (r.inline[1], r.trips[1]) == (True, 0)
    for _ in range(TRIP_AFTER - 1):
        r.measured(1, 50 * MS)
    assert (r.inline, r.trips) == ([True, False], [0, 1])


def test_a_full_queue_drops_and_counts() -> None:
    release = threading.Event()

    def run(job: tuple[Any, ...]) -> tuple[int, int]:
        release.wait(5)
        return 0, 1

    r = SecondaryRunner("offload", 10.0, 0.0, 1, ("a", "b"), run)
    for _ in range(5):
        r.offload((0,))
    release.set()
    assert r.drain(5)
    stats = r.stats()
    assert stats["offloaded"] + stats["dropped"] == 5
    assert stats["dropped"] >= 3
    assert stats["pending"] == 0
    r.stop()
