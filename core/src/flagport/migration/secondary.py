"""Where the compared side of a migration runs: inline, or on a worker thread.

The *secondary* is the provider that is evaluated only to be compared. Its answer is
never served, so it must never delay the served one beyond a bound. In ``auto`` mode
:class:`SecondaryRunner` is a circuit breaker: a secondary starts on the worker thread
while its cost is measured, moves onto the caller's thread once it has proven fast,
and goes back to the worker, for a cool-down, after two consecutive evaluations over
the bound.
"""

from __future__ import annotations

import contextlib
import logging
import queue
import threading
import time
from collections.abc import Callable
from typing import Any

__all__ = ["PROBATION", "TRIP_AFTER", "SecondaryRunner"]

logger = logging.getLogger("flagport.migration")

PROBATION = 16
"""Consecutive fast offloaded evaluations (under a quarter of the bound) before a
secondary may run inline."""
TRIP_AFTER = 2
"""Consecutive over-bound inline evaluations that move a secondary off the request
path: one alone may be the machine (a descheduled thread), not the secondary."""
_STOP = object()


class SecondaryRunner:
    """The circuit breaker and worker thread of one migration, per secondary side.

    :param mode: ``"auto"``, ``"inline"`` or ``"offload"``.
    :param bound_ms: how long a secondary evaluation may delay an answer.
    :param cooldown_s: how long a tripped secondary stays offloaded (``auto``).
    :param queue_size: offloaded jobs waiting; beyond it they are dropped.
    :param names: the two sides' provider names, for messages.
    :param run: runs one offloaded job; returns (the side it evaluated, its cost in ns).
    """

    def __init__(
        self,
        mode: str,
        bound_ms: float,
        cooldown_s: float,
        queue_size: int,
        names: tuple[str, str],
        run: Callable[[tuple[Any, ...]], tuple[int, int]],
    ) -> None:
        self.mode = mode
        self.auto = mode == "auto"
        #: per side: whether it is evaluated on the caller's thread now (read on the
        #: hot path; a list so the provider's closures can hold it)
        self.inline = [mode == "inline", mode == "inline"]
        self.bound_ns = int(bound_ms * 1_000_000)
        self.cooldown_s = cooldown_s
        self.trips = [0, 0]
        self.offloaded = 0
        self.dropped = 0
        self.pending = 0
        self._names = names
        self._run = run
        self._fast = [0, 0]
        self._slow = [0, 0]
        self._cooldown_until = [0.0, 0.0]
        self._queue: queue.Queue[Any] = queue.Queue(queue_size)
        self._idle = threading.Condition()
        self._worker: threading.Thread | None = None

    # -- inline --------------------------------------------------------------------------
    def measured(self, side: int, spent_ns: int) -> None:
        """Record what an inline evaluation of ``side`` cost; trip when it is too slow."""
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

    def _promote(self, side: int, spent_ns: int) -> None:
        # Back onto the caller's thread only after a run of evaluations well under the
        # bound, and never before the cool-down after a trip has passed.
        if spent_ns * 4 >= self.bound_ns:
            self._fast[side] = 0
            return
        self._fast[side] += 1
        if self._fast[side] >= PROBATION and time.monotonic() >= self._cooldown_until[side]:
            self.inline[side] = True

    # -- offloaded -------------------------------------------------------------------------
    def offload(self, job: tuple[Any, ...]) -> None:
        """Queue a comparison for the worker; drop (and count) it when the queue is full."""
        if self._worker is None:
            self._start_worker()
        with self._idle:
            self.pending += 1
        try:
            self._queue.put_nowait(job)
        except queue.Full:
            self.dropped += 1
            self._done()
        else:
            self.offloaded += 1

    def _start_worker(self) -> None:
        with self._idle:
            if self._worker is None:
                self._worker = threading.Thread(
                    target=self._work, name="flagport-migration-compare", daemon=True
                )
                self._worker.start()

    def _done(self) -> None:
        with self._idle:
            self.pending -= 1
            if self.pending == 0:
                self._idle.notify_all()

    def _work(self) -> None:
        while True:
            job = self._queue.get()
            if job is _STOP:
                return
            try:
                side, spent = self._run(job)
                if self.auto:
                    self._promote(side, spent)
            except Exception:
                logger.exception("flagport: an offloaded migration comparison failed")
            finally:
                self._done()

    def drain(self, timeout: float = 5.0) -> bool:
        """Wait until offloaded comparisons are done (at most ``timeout`` seconds).

        :returns: whether none is left.
        """
        with self._idle:
            return self._idle.wait_for(lambda: self.pending == 0, timeout)

    def stop(self, timeout: float = 1.0) -> None:
        """Let the worker finish what is queued, then stop it (bounded by ``timeout``)."""
        if self._worker is None:
            return
        # A full queue leaves the worker running; it is a daemon and dies with us.
        with contextlib.suppress(queue.Full):
            self._queue.put_nowait(_STOP)
        self._worker.join(timeout)

    def stats(self) -> dict[str, Any]:
        sides = ("from", "to")
        return {
            "mode": self.mode,
            "timeout_ms": self.bound_ns / 1_000_000,
            "inline": dict(zip(sides, self.inline, strict=True)),
            "trips": dict(zip(sides, self.trips, strict=True)),
            "offloaded": self.offloaded,
            "dropped": self.dropped,
            "pending": self.pending,
        }
