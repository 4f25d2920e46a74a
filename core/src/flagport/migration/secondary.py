"""Where and when the compared side of a migration is evaluated.

The *secondary* is the provider that is evaluated only to be compared. Its answer is
never served, so it must never delay the served one beyond a bound. Each comparison
becomes a job in a queue per secondary side (a ``deque``: an append is one step under
the GIL), and queued jobs are evaluated *in runs*: each SDK then evaluates many times
in a row with its code and data in the CPU caches, where calling two SDKs alternately
costs 10-35 % more than their separate costs. A run happens

* on the caller's thread, once ``batch_size`` jobs are queued (``inline`` mode has a
  batch of one: evidence is complete when the call returns). The run stops after
  ``secondary_timeout_ms``, leaving the rest to the next one;
* on a worker thread (``offload``): the answer never waits for the secondary, but
  under the GIL the worker's runs still take CPU from the callers, and handing jobs to
  another thread (and core) costs more than a run on the caller's;
* ``auto`` (the default) starts a secondary on the worker while its cost is measured,
  moves it to the caller's thread in batches once it has proven fast, and back to the
  worker, for a cool-down, after two consecutive evaluations over the bound.

Whatever callers leave queued when traffic stops, the worker evaluates after two
:data:`IDLE_WAIT_S` without a caller's run; ``drain()`` (the provider's ``flush``)
evaluates it at once.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from collections.abc import Callable
from typing import Any

__all__ = ["IDLE_WAIT_S", "KINDS", "PROBATION", "TRIP_AFTER", "SecondaryRunner"]

logger = logging.getLogger("flagport.migration")

PROBATION = 16
"""Consecutive fast offloaded evaluations (under a quarter of the bound) before a
secondary may run on the caller's thread (``auto``)."""
TRIP_AFTER = 2
"""Consecutive over-bound evaluations on the caller's thread that move a secondary to
the worker: one alone may be the machine (a descheduled thread), not the secondary."""
IDLE_WAIT_S = 0.5
"""How long the worker, once started, sleeps between looks for jobs that callers
left queued."""

Run = Callable[[int, bool, int], int]
KINDS = 4
"""Evaluation kinds the provider queues apart (check_gate, gate, experiment, config)."""


class SecondaryRunner:
    """The job queues, worker thread and circuit breaker of one migration.

    :param mode: ``"auto"``, ``"offload"`` or ``"inline"``.
    :param bound_ms: how long a run on the caller's thread may take, and how long one
        secondary evaluation may take before ``auto`` offloads it.
    :param cooldown_s: how long a tripped secondary stays offloaded (``auto``).
    :param queue_size: jobs waiting per queue; beyond it comparisons are skipped and
        counted as dropped.
    :param batch_size: jobs a caller's run evaluates (``auto`` once promoted).
    :param names: the two sides' provider names, for messages.
    :param run: ``run(index, on_caller, limit)`` pops and evaluates at most ``limit``
        jobs (0: all) of queue ``index`` and returns how many it evaluated. Must not
        raise for one bad job.
    """

    def __init__(
        self,
        mode: str,
        bound_ms: float,
        cooldown_s: float,
        queue_size: int,
        names: tuple[str, str],
        run: Run,
        batch_size: int = 128,
    ) -> None:
        self.mode = mode
        self.auto = mode == "auto"
        #: per side: whether its jobs are evaluated on the caller's thread now (read on
        #: the hot path; a list so the provider's closures can hold it)
        self.inline = [mode == "inline", mode == "inline"]
        #: the jobs queued, one queue per kind and secondary side: ``kind * 2 + side``
        self.queues: tuple[deque[Any], ...] = tuple(deque() for _ in range(KINDS * 2))
        self.batch = 1 if mode == "inline" else batch_size
        #: how many queued jobs make a caller run them: a batch, or a queue smaller
        #: than a batch once it is full
        self.fill = min(self.batch, queue_size)
        self.bound_ns = int(bound_ms * 1_000_000)
        self.cooldown_s = cooldown_s
        self.queue_size = queue_size
        self.trips = [0, 0]
        self.offloaded = 0
        self.on_callers = 0
        self.dropped = 0
        self._names = names
        self._run = run
        self._fast = [0, 0]
        self._slow = [0, 0]
        self._cooldown_until = [0.0, 0.0]
        # The worker publishes that it is about to sleep before it looks at the queues
        # a last time, so an offload that reads it False was seen by that last look.
        self.asleep = True
        self._running = False
        self._stopping = False
        self._wake = threading.Event()
        self._idle = threading.Condition()
        self._worker: threading.Thread | None = None

    # -- the breaker (auto) -------------------------------------------------------------
    def measured(self, side: int, spent_ns: int) -> None:
        """Record what an evaluation of ``side`` on a caller's thread cost; trip (move
        it to the worker) after :data:`TRIP_AFTER` in a row over the bound."""
        if spent_ns <= self.bound_ns:
            self._slow[side] = 0
            return
        self._slow[side] += 1
        if self._slow[side] >= TRIP_AFTER:
            self._trip(side)

    def _trip(self, side: int) -> None:
        self.inline[side] = False
        self._fast[side] = 0
        self._slow[side] = 0
        self._cooldown_until[side] = time.monotonic() + self.cooldown_s
        self.trips[side] += 1
        logger.warning(
            "flagport: migration secondary %r exceeded %.1f ms; comparing off the request path",
            self._names[side],
            self.bound_ns / 1_000_000,
        )
        if any(self.queues[side::2]):
            self.wake()

    def promote(self, side: int, spent_ns: int) -> None:
        """Record what an evaluation on the worker cost (``auto``): a run of them well
        under the bound moves the side to the caller's thread, never before the
        cool-down after a trip has passed."""
        if spent_ns * 4 >= self.bound_ns:
            self._fast[side] = 0
            return
        self._fast[side] += 1
        if self._fast[side] >= PROBATION and time.monotonic() >= self._cooldown_until[side]:
            self.inline[side] = True

    # -- queueing ------------------------------------------------------------------------
    def submit(self, index: int, job: Any) -> None:
        """Queue a comparison in queue ``index`` (``kind * 2 + secondary side``);
        evaluate a batch now when that side runs on the caller's thread and one is
        complete (or the queue is full, when it is smaller than a batch); drop (and
        count) the job when the queue is full. (The provider
        inlines this on its hot path.)"""
        queue = self.queues[index]
        if len(queue) >= self.queue_size:
            self.dropped += 1
            return
        queue.append(job)
        if self.inline[index & 1]:
            if len(queue) >= self.fill:
                self.run_here(index)
        elif self.asleep:
            self.wake()

    def run_here(self, index: int) -> None:
        """Evaluate up to a batch of queue ``index`` on this thread."""
        self.on_callers += self._run(index, True, self.batch)

    def wake(self) -> None:
        """Wake the worker (starting it the first time) after queueing a job."""
        # The caller says the worker is awake: until the worker has the GIL it cannot
        # say so itself, and an Event.set for every job queued meanwhile costs a lock.
        self.asleep = False
        if self._worker is None:
            with self._idle:
                if self._worker is None:
                    self._worker = threading.Thread(
                        target=self._work, name="flagport-migration-compare", daemon=True
                    )
                    self._worker.start()
        self._wake.set()

    def _work(self) -> None:
        queues, inline = self.queues, self.inline
        # Jobs queued for the callers' threads are taken only when no caller has run a
        # batch for a whole idle period (traffic stopped): taking them while callers
        # are busy would turn the cheap runs on their threads into hand-offs.
        leftovers, seen = False, -1
        while not self._stopping:
            worked = False
            for index, queue in enumerate(queues):
                if queue and (leftovers or not inline[index & 1]):
                    self._running = worked = True
                    try:
                        self.offloaded += self._run(index, False, 0)
                    except Exception:
                        logger.exception("flagport: offloaded migration comparisons failed")
            leftovers = False
            if worked:
                continue
            with self._idle:
                self._running = False
                self._idle.notify_all()
            self.asleep = True
            if not self._offloaded_waiting():
                woken = self._wake.wait(IDLE_WAIT_S)
                self._wake.clear()
                if not woken:
                    leftovers, seen = self.on_callers == seen, self.on_callers
            self.asleep = False
        with self._idle:
            self._running = False
            self._idle.notify_all()

    def _offloaded_waiting(self) -> bool:
        return any(queue and not self.inline[i & 1] for i, queue in enumerate(self.queues))

    def _quiet(self) -> bool:
        return not (self._running or any(self.queues))

    def drain(self, timeout: float = 5.0) -> bool:
        """Evaluate what waits for the callers' threads here, and wait (at most
        ``timeout`` seconds) until the worker has evaluated what waits for it.

        :returns: whether that is all done (what other threads queue meanwhile for
            their own runs is not waited for).
        """
        for index, queue in enumerate(self.queues):
            if queue and self.inline[index & 1]:
                self.on_callers += self._run(index, True, 0)
        if self._worker is None or not self._worker.is_alive():
            for index, queue in enumerate(self.queues):
                if queue:  # offloaded before the worker existed (or after it stopped)
                    self.offloaded += self._run(index, False, 0)
            return self._quiet()
        # What callers' threads queue meanwhile is theirs to run: wait for the worker's.
        if self._worker_done():
            return True  # waking an idle worker for nothing would cost a thread switch
        self._wake.set()
        with self._idle:
            return self._idle.wait_for(self._worker_done, timeout)

    def _worker_done(self) -> bool:
        return not (self._running or self._offloaded_waiting())

    def stop(self, timeout: float = 1.0) -> None:
        """Stop the worker after the run it is in (bounded by ``timeout``); what is
        still queued is dropped and counted."""
        self._stopping = True
        if self._worker is not None:
            self._wake.set()
            self._worker.join(timeout)
        for queue in self.queues:
            self.dropped += len(queue)
            queue.clear()

    def stats(self) -> dict[str, Any]:
        sides = ("from", "to")
        return {
            "mode": self.mode,
            "timeout_ms": self.bound_ns / 1_000_000,
            "batch_size": self.batch,
            "inline": dict(zip(sides, self.inline, strict=True)),
            "trips": dict(zip(sides, self.trips, strict=True)),
            "on_callers": self.on_callers,
            "offloaded": self.offloaded,
            "dropped": self.dropped,
            "pending": sum(map(len, self.queues)),
        }
