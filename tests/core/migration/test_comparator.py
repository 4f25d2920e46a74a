"""The two comparators on their own: the caller's thread and the worker."""

from __future__ import annotations

import threading
import time
from typing import Any

from flagport import User
from flagport.providers.migration import comparator
from flagport.providers.migration.comparator import (
    TRIP_AFTER,
    Comparison,
    InlineComparator,
    OffloadComparator,
)
from flagport.providers.migration.options import Side


class Recorder:
    """A comparison function: records where it ran; sleeps ``delay_s``; blocks while
    ``block`` is set."""

    def __init__(self, delay_s: float = 0.0) -> None:
        self.delay_s = delay_s
        self.seen: list[tuple[str, str]] = []
        self.block = threading.Event()
        self.entered = threading.Event()
        self.release = threading.Event()

    def __call__(self, comparisons: list[Comparison]) -> None:
        for comparison in comparisons:
            self.seen.append((comparison[3], threading.current_thread().name))
        time.sleep(self.delay_s)
        if self.block.is_set():
            self.entered.set()
            self.release.wait(10)


def submit(comparator: Any, name: str = "g") -> None:
    comparator.submit(("check_gate", Side.OLD, User(), name, True, 100))


def test_the_worker_compares_off_the_callers_thread_in_order() -> None:
    record = Recorder()
    worker = OffloadComparator(record)
    for i in range(50):
        submit(worker, f"f{i}")
    assert worker.drain(5)
    assert [name for name, _ in record.seen] == [f"f{i}" for i in range(50)]
    assert {thread for _, thread in record.seen} == {"flagport-migration-compare"}
    assert worker.stats() == {"compare_on": "worker", "compared": 50, "dropped": 0, "pending": 0}
    worker.stop()


def test_a_full_queue_drops_and_counts_without_waiting() -> None:
    record = Recorder()
    record.block.set()
    worker = OffloadComparator(record, queue_size=3)
    submit(worker)
    assert record.entered.wait(5)  # the worker is stuck in the first comparison
    for _ in range(9):
        submit(worker)  # returns at once: three wait, six are dropped
    assert worker.stats()["pending"] == 1 + 3
    assert worker.stats()["dropped"] == 6
    assert not worker.drain(0.05)  # bounded: the stuck comparison is not finished
    record.release.set()
    assert worker.drain(5)
    assert worker.stats() == {"compare_on": "worker", "compared": 4, "dropped": 6, "pending": 0}
    worker.stop()


def test_stop_counts_what_is_left_as_dropped() -> None:
    record = Recorder()
    record.block.set()
    worker = OffloadComparator(record)
    for _ in range(10):
        submit(worker)
    assert record.entered.wait(5)
    worker.stop(0.05)
    stats = worker.stats()  # the worker took one or more at once, the rest are dropped
    assert stats["dropped"] + stats["pending"] == 10
    assert stats["pending"] >= 1
    record.release.set()


def test_inline_compares_at_once_on_the_callers_thread() -> None:
    record = Recorder()
    inline = InlineComparator(record, 10.0, OffloadComparator(record))
    submit(inline)
    assert record.seen == [("g", threading.current_thread().name)]
    assert inline.stats()["compared"] == 1
    assert inline.stats()["compare_on"] == "caller"


def test_inline_moves_to_the_worker_after_slow_evaluations_in_a_row() -> None:
    record = Recorder(delay_s=0.05)  # five times the bound
    inline = InlineComparator(record, 10.0, OffloadComparator(record))
    submit(inline)
    record.delay_s = 0.0  # the streak is broken: one slow one may be the machine
    submit(inline)
    record.delay_s = 0.05
    for _ in range(TRIP_AFTER - 1):
        submit(inline)
    assert inline.stats()["compare_on"] == "caller"
    submit(inline)  # TRIP_AFTER in a row
    assert inline.stats()["compare_on"] == "worker"
    assert inline.stats()["moved_to_worker"] is True
    submit(inline)
    assert inline.drain(5)
    assert record.seen[-1][1] == "flagport-migration-compare"
    assert inline.stats()["compared"] == TRIP_AFTER + 3
    inline.stop()


def test_a_lone_comparison_waits_for_a_batch_but_drain_and_stop_do_not(
    monkeypatch: Any,
) -> None:
    # Comparisons made one at a time find the secondary's code out of the CPU caches;
    # the worker lets a batch gather, but whoever waits for the evidence does not wait.
    monkeypatch.setattr(comparator, "LINGER_S", 60.0)
    record = Recorder()
    worker = OffloadComparator(record)
    submit(worker)
    assert worker.drain(10)
    assert record.seen == [("g", "flagport-migration-compare")]
    submit(worker)
    thread = worker._worker
    assert thread is not None
    worker.stop(10)
    assert not thread.is_alive()


def test_a_full_batch_is_compared_without_lingering(monkeypatch: Any) -> None:
    monkeypatch.setattr(comparator, "LINGER_S", 60.0)
    done = threading.Event()

    def compare(comparisons: list[Comparison]) -> None:
        if len(comparisons) == comparator.BATCH:
            done.set()

    worker = OffloadComparator(compare)
    for _ in range(comparator.BATCH):
        submit(worker)
    assert done.wait(10)
    worker.stop()


def test_without_drain_the_worker_compares_what_comes_while_it_lingers_or_idles(
    monkeypatch: Any,
) -> None:
    # After a batch the worker lingers for the next instead of sleeping on the queue, and
    # once a linger finds nothing it sleeps until a comparison comes: both paths compare
    # with nobody waiting for the evidence.
    monkeypatch.setattr(comparator, "LINGER_S", 0.01)
    seen: list[str] = []
    arrived = threading.Semaphore(0)

    def compare(comparisons: list[Comparison]) -> None:
        for comparison in comparisons:
            seen.append(comparison[3])
            arrived.release()

    worker = OffloadComparator(compare)
    submit(worker, "first")
    assert arrived.acquire(timeout=10)
    submit(worker, "while lingering or idle")
    assert arrived.acquire(timeout=10)
    for i in range(3):
        submit(worker, f"f{i}")
    for _ in range(3):
        assert arrived.acquire(timeout=10)
    assert seen == ["first", "while lingering or idle", "f0", "f1", "f2"]
    assert worker.drain(5)
    assert worker.stats() == {"compare_on": "worker", "compared": 5, "dropped": 0, "pending": 0}
    worker.stop()
