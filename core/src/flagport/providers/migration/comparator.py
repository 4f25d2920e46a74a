"""Where the compared side of a migration is evaluated: the caller's thread or a worker.

A *comparison* starts with an answer one side served to the caller; the other side,
the *secondary*, evaluates the same flag for the same user, and the two answers are
recorded as evidence. A :class:`Comparator` decides where the secondary runs:

* :class:`InlineComparator` (``compare_on = "caller"``): at once, on the caller's
  thread, so the evidence is complete when the call returns and the answer waits for
  the secondary. A secondary that takes longer than the bound twice in a row is moved
  to a worker for good.
* :class:`OffloadComparator` (``compare_on = "worker"``): queued for one worker
  thread, so the answer never waits for the secondary. The queue is bounded: while it
  is full (a secondary that hangs), comparisons are skipped and counted as dropped.
"""

from __future__ import annotations

import logging
import threading
from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping
from queue import Empty, SimpleQueue
from time import perf_counter_ns
from typing import TYPE_CHECKING, Any

from flagport.providers.migration.options import NEW, OLD, Side

if TYPE_CHECKING:
    from flagport.user import User

__all__ = [
    "QUEUE_SIZE",
    "TRIP_AFTER",
    "Comparator",
    "Comparison",
    "InlineComparator",
    "OffloadComparator",
]

logger = logging.getLogger("flagport.providers.migration")

QUEUE_SIZE = 4096
"""Comparisons waiting for the worker before new ones are dropped."""
WORKER = "flagport-migration-compare"
"""The worker thread's name."""
BATCH = 256
"""Waiting comparisons the worker takes at once."""
LINGER_S = 0.05
"""How long the worker waits for a batch to fill. A comparison made alone, between the
served side's evaluations, finds the secondary's code and data out of the CPU caches and
costs several times one made in a batch; waiting costs the evidence only freshness
(``drain``, ``stats`` and ``flush`` do not wait)."""
TRIP_AFTER = 2
"""Consecutive over-bound evaluations on the caller's thread that move a secondary to
the worker: one alone may be the machine (a descheduled thread), not the secondary."""

Comparison = tuple[str, "Side", "User", str, Any, int]
"""What a comparison needs: the provider method, the side that served, the user, the
flag, the served answer and what it took (ns)."""
Compare = Callable[[list[Comparison]], None]
"""Evaluates the secondary of comparisons and records the outcomes. Never raises."""


class Comparator(ABC):
    """Runs the secondary side of comparisons somewhere.

    :param compare: evaluates the secondary and records the outcome.
    """

    def __init__(self, compare: Compare) -> None:
        self._compare = compare

    @abstractmethod
    def submit(self, comparison: Comparison) -> None:
        """Compare now or later."""

    @abstractmethod
    def drain(self, timeout: float = 5.0) -> bool:
        """Wait (at most ``timeout`` s) until what was submitted before is compared."""

    @abstractmethod
    def start(self) -> None:
        """Compare (again, after :meth:`stop`): the provider's start begins a run."""

    @abstractmethod
    def stop(self, timeout: float = 1.0) -> None:
        """Stop comparing; what is still waiting is dropped and counted."""

    @abstractmethod
    def stats(self) -> dict[str, Any]:
        """Counters: ``compared``, ``dropped``, ``pending`` (submitted, not compared yet)
        and where comparisons run (``compare_on``)."""


class OffloadComparator(Comparator):
    """Comparisons go through a bounded queue to one worker thread, started on the first.

    :param compare: run on the worker for each comparison, in the order submitted.
    :param queue_size: comparisons waiting before new ones are dropped.
    """

    def __init__(self, compare: Compare, queue_size: int = QUEUE_SIZE) -> None:
        super().__init__(compare)
        self.queue_size = queue_size
        self.submitted = 0
        self.compared = 0
        self.dropped = 0
        self._jobs: SimpleQueue[Comparison | None] = SimpleQueue()
        self._done = threading.Condition()  # notified after every batch
        self._worker: threading.Thread | None = None
        self._stopped = threading.Event()  # this run's: stop() sets it, start() replaces it
        self._running = 0  # comparisons the worker is in
        self._start_lock = threading.Lock()
        self._hurry = threading.Event()  # a batch is full, or someone waits for the worker

    def submit(self, comparison: Comparison) -> None:
        waiting = self._jobs.qsize()
        if waiting >= self.queue_size:
            self.dropped += 1
            return
        self.submitted += 1
        self._jobs.put(comparison)
        if waiting == BATCH - 1:
            self._hurry.set()
        if self._worker is None:
            self._start()

    def _start(self) -> None:
        with self._start_lock:
            if self._worker is None:
                self._worker = threading.Thread(
                    target=self._work, args=(self._stopped,), name=WORKER, daemon=True
                )
                self._worker.start()

    def _work(self, stopped: threading.Event) -> None:
        jobs: list[Comparison] = []  # the comparison that woke an idle worker, if any
        while not stopped.is_set():
            # Let a batch gather. The worker lingers here after each batch too, so under
            # steady traffic no comparison has to wake it: a wake-up costs more than the
            # comparison, in both threads.
            if self._jobs.qsize() < BATCH:
                self._hurry.wait(LINGER_S)
            self._hurry.clear()
            while len(jobs) < BATCH and not self._jobs.empty():
                if (job := self._jobs.get()) is None:
                    stopped.set()
                    break
                jobs.append(job)
            if not jobs:  # idle (unless stopped): sleep until a comparison or stop() comes
                if stopped.is_set() or (job := self._jobs.get()) is None:
                    break
                jobs, self._running = [job], 1
                continue
            self._running = len(jobs)
            try:
                self._compare(jobs)
            except Exception:  # the worker must survive whatever one comparison does
                logger.exception("flagport: migration comparisons failed")
            self.compared += len(jobs)
            jobs, self._running = [], 0
            with self._done:
                self._done.notify_all()

    def drain(self, timeout: float = 5.0) -> bool:
        # What other threads submit meanwhile is not waited for: under steady traffic
        # the queue is never empty.
        target = self.submitted
        self._hurry.set()
        with self._done:
            return self._done.wait_for(lambda: self.compared >= target, timeout)

    def start(self) -> None:
        with self._start_lock:  # a worker of the last run still in a comparison sees its own
            if self._stopped.is_set():
                self._stopped, self._worker = threading.Event(), None

    def stop(self, timeout: float = 1.0) -> None:
        self._stopped.set()
        self._hurry.set()
        if self._worker is not None:
            self._jobs.put(None)  # wakes an idle worker
            self._worker.join(timeout)
        while True:
            try:
                job = self._jobs.get_nowait()
            except Empty:
                break
            if job is not None:
                self.dropped += 1

    def stats(self) -> dict[str, Any]:
        return {
            "compare_on": "worker",
            "compared": self.compared,
            "dropped": self.dropped,
            "pending": self._jobs.qsize() + self._running,
        }


class InlineComparator(Comparator):
    """Comparisons run at once on the caller's thread, until the secondary is too slow.

    :param compare: run on the caller's thread for each comparison.
    :param bound_ms: how long one comparison may delay an answer; after
        :data:`TRIP_AFTER` in a row over it, comparisons go to ``fallback``.
    :param fallback: where comparisons go from then on.
    :param names: each side's provider name; the warning names the side that did not serve.
    """

    def __init__(
        self,
        compare: Compare,
        bound_ms: float,
        fallback: Comparator,
        names: Mapping[Side, str] | None = None,
    ) -> None:
        super().__init__(compare)
        self.bound_ns = int(bound_ms * 1_000_000)
        self.fallback = fallback
        self.names = dict(names or {})
        self.compared = 0
        self.tripped = False
        self._slow = 0

    def submit(self, comparison: Comparison) -> None:
        if self.tripped:
            self.fallback.submit(comparison)
            return
        start = perf_counter_ns()
        self._compare([comparison])
        spent = perf_counter_ns() - start
        self.compared += 1
        if spent <= self.bound_ns:
            self._slow = 0
            return
        self._slow += 1
        if self._slow >= TRIP_AFTER:
            self.tripped = True
            secondary = NEW if comparison[1] is OLD else OLD
            logger.warning(
                "flagport: migration secondary %r (the %r side) took over %.1f ms; "
                "comparing on a worker",
                self.names.get(secondary, "secondary"),
                secondary.value,
                self.bound_ns / 1_000_000,
            )

    def drain(self, timeout: float = 5.0) -> bool:
        return self.fallback.drain(timeout)

    def start(self) -> None:
        self.fallback.start()

    def stop(self, timeout: float = 1.0) -> None:
        self.fallback.stop(timeout)

    def stats(self) -> dict[str, Any]:
        offloaded = self.fallback.stats()
        return {
            **offloaded,
            "compare_on": "worker" if self.tripped else "caller",
            "compared": self.compared + offloaded["compared"],
            "moved_to_worker": self.tripped,
        }
