"""The secondary's worker and circuit breaker, on their own."""

from __future__ import annotations

import threading
from typing import Any

from flagport.migration.secondary import PROBATION, TRIP_AFTER, SecondaryRunner

MS = 1_000_000


def runner(mode: str = "auto", cost_ns: int = 1000, **kw: Any) -> SecondaryRunner:
    def run(index: int, on_caller: bool, limit: int) -> int:
        jobs = r.queues[index]
        done = 0
        while jobs:
            jobs.popleft()
            side = index & 1
            if on_caller:
                r.measured(side, cost_ns)
            else:
                r.promote(side, cost_ns)
            done += 1
            if done == limit:
                break
        return done

    r = SecondaryRunner(mode, 10.0, kw.get("cooldown", 0.0), kw.get("size", 64), ("a", "b"), run)
    return r


def test_modes_start_where_they_say() -> None:
    assert runner("inline").inline == [True, True]
    assert runner("offload").inline == [False, False]
    assert runner("auto").inline == [False, False]  # on probation


def test_auto_promotes_after_a_run_of_fast_offloaded_evaluations() -> None:
    r = runner()
    for _ in range(PROBATION - 1):
        r.submit(1, (1,))
    assert r.drain(5)
    assert r.inline == [False, False]
    r.submit(1, (1,))
    assert r.drain(5)
    assert r.inline == [False, True]
    r.stop()


def test_slow_offloaded_evaluations_never_promote() -> None:
    r = runner(cost_ns=5 * MS)  # half the bound: not "well under" it
    for _ in range(PROBATION * 2):
        r.submit(0, (0,))
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


def test_the_worker_evaluates_what_accumulated_in_one_run() -> None:
    release, runs = threading.Event(), []

    def run(index: int, on_caller: bool, limit: int) -> int:
        jobs = r.queues[index]
        release.wait(5)
        runs.append(len(jobs))
        jobs.clear()
        return runs[-1]

    r = SecondaryRunner("offload", 10.0, 0.0, 1000, ("a", "b"), run)
    for _ in range(100):
        r.submit(0, (0,))
    release.set()
    assert r.drain(5)
    assert r.stats()["offloaded"] == 100
    assert len(runs) <= 2  # the first job may have woken the worker alone
    r.submit(0, (0,))
    assert r.drain(5)  # an idle worker wakes for a new job
    assert r.stats()["offloaded"] == 101
    r.stop()


def one_at_a_time(size: int) -> tuple[SecondaryRunner, threading.Event]:
    """An offloading runner whose worker takes one job per run, once released."""
    release = threading.Event()

    def run(index: int, on_caller: bool, limit: int) -> int:
        release.wait(5)
        r.queues[index].popleft()
        return 1

    r = SecondaryRunner("offload", 10.0, 0.0, size, ("a", "b"), run)
    return r, release


def test_a_full_queue_drops_and_counts() -> None:
    r, release = one_at_a_time(1)
    for _ in range(5):
        r.submit(0, (0,))
    release.set()
    assert r.drain(5)
    stats = r.stats()
    assert stats["offloaded"] + stats["dropped"] == 5
    assert stats["dropped"] >= 3
    assert stats["pending"] == 0
    r.stop()


def test_stop_drops_and_counts_what_is_left() -> None:
    r, release = one_at_a_time(100)
    for _ in range(10):
        r.submit(0, (0,))
    release.set()
    r.stop(5)
    stats = r.stats()
    assert stats["offloaded"] + stats["dropped"] == 10
    assert stats["pending"] == 0


def test_promoted_jobs_run_on_the_callers_thread_in_batches() -> None:
    threads: list[tuple[str, int]] = []

    def run(index: int, on_caller: bool, limit: int) -> int:
        jobs = r.queues[index]
        threads.append((threading.current_thread().name, len(jobs)))
        done = 0
        while jobs and (not limit or done < limit):
            jobs.popleft()
            done += 1
        return done

    r = SecondaryRunner("auto", 10.0, 0.0, 1000, ("a", "b"), run, batch_size=8)
    r.inline[1] = True
    for _ in range(7):
        r.submit(1, (1,))
    assert threads == []  # not a whole batch yet
    r.submit(1, (1,))
    assert threads == [(threading.current_thread().name, 8)]
    for _ in range(3):
        r.submit(1, (1,))
    assert r.drain(5)  # leftovers are evaluated here
    assert threads[-1] == (threading.current_thread().name, 3)
    assert r.stats()["on_callers"] == 11
    assert r.stats()["offloaded"] == 0


def test_a_queue_smaller_than_the_batch_is_run_when_full() -> None:
    def run(index: int, on_caller: bool, limit: int) -> int:
        jobs = r.queues[index]
        taken = len(jobs)
        jobs.clear()
        return taken

    r = SecondaryRunner("auto", 10.0, 0.0, 4, ("a", "b"), run, batch_size=64)
    r.inline[1] = True
    for _ in range(10):
        r.submit(1, (1,))
        assert len(r.queues[1]) < 4
    assert r.stats()["on_callers"] == 8
    assert r.stats()["dropped"] == 0


def test_inline_mode_evaluates_every_job_at_once() -> None:
    done: list[int] = []

    def run(index: int, on_caller: bool, limit: int) -> int:
        jobs = r.queues[index]
        done.append(limit)
        jobs.popleft()
        return 1

    r = SecondaryRunner("inline", 10.0, 0.0, 1000, ("a", "b"), run, batch_size=64)
    r.submit(0, (0,))
    r.submit(0, (0,))
    assert done == [1, 1]
    assert r.stats()["batch_size"] == 1
