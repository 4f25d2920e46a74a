"""Sampling by time windows: which evaluations a migration compares.

A ``sample_rate`` below 1 is not decided per call. Deciding per call would put a frame
and a random draw in front of every evaluation, compared or not, and at a 1 % rate that
frame costs more than the comparisons it saves. Instead a thread opens *comparison
windows*: in every period (``sample_period_s``, 1 s by default) one window covering
``sample_rate`` of it, at a random offset. While a window is open the provider compares
every evaluation; while it is closed the served side's own methods are called directly
(see :meth:`~flagport.migration.MigrationProvider.route_methods`), so an uncompared
evaluation costs nothing at all.

Over traffic that does not follow the windows' schedule (their offsets are random, so
nothing periodic can), the share of evaluations compared is ``sample_rate`` in
expectation, as with a per-call coin. Timer overshoot is measured and the next window is
shortened by it, so the share of time compared converges on the rate.
"""

from __future__ import annotations

import logging
import random
import threading
import time
from collections.abc import Callable

__all__ = ["WindowSampler"]

logger = logging.getLogger("flagport.migration")


class WindowSampler:
    """Opens and closes comparison windows on a thread of its own.

    :param period_s: the length of a period; each has one window.
    :param switch: called with True when a window opens and False when it closes
        (also with the constant answer when the rate is 0 or 1).
    :param rng: a ``random()``-like function for window offsets (tests seed it).
    """

    def __init__(
        self,
        period_s: float,
        switch: Callable[[bool], None],
        rng: Callable[[], float] = random.random,
    ) -> None:
        self.period_s = period_s
        self.windows = 0
        self.open_s = 0.0
        self._switch = switch
        self._rng = rng
        self._rate = 1.0
        self._changed = threading.Event()
        self._stopped = False
        self._thread: threading.Thread | None = None

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def set_rate(self, rate: float) -> None:
        """Use ``rate`` from now on; the thread starts when a rate first needs it."""
        self._rate = rate
        if 0.0 < rate < 1.0 and self._thread is None and not self._stopped:
            self._thread = threading.Thread(
                target=self._run, name="flagport-migration-sampler", daemon=True
            )
            self._thread.start()
        else:
            self._changed.set()

    def stop(self, timeout: float = 1.0) -> None:
        self._stopped = True
        self._changed.set()
        if self._thread is not None:
            self._thread.join(timeout)

    def _pause(self, seconds: float) -> bool:
        """Sleep; True when the rate changed (or stop) meanwhile."""
        if seconds > 0 and self._changed.wait(seconds):
            self._changed.clear()
            return True
        return self._stopped

    def _run(self) -> None:
        owed = 0.0  # window time owed from earlier periods (negative: overshot)
        while not self._stopped:
            rate = self._rate
            if not 0.0 < rate < 1.0:
                self._safe_switch(rate >= 1.0)
                self._changed.wait()
                self._changed.clear()
                owed = 0.0
                continue
            period = self.period_s
            target = rate * period + owed
            window = min(max(target, 0.0), period)
            offset = self._rng() * (period - window)
            if self._pause(offset):
                continue
            interrupted, spent = False, 0.0
            if window > 0:
                opened = time.monotonic()
                self._safe_switch(True)
                self.windows += 1
                interrupted = self._pause(window)
                self._safe_switch(False)
                spent = time.monotonic() - opened
            self.open_s += spent
            owed = max(-period, min(period, target - spent))
            if interrupted or self._pause(period - offset - spent):
                owed = 0.0

    def _safe_switch(self, comparing: bool) -> None:
        try:
            self._switch(comparing)
        except Exception:  # the thread must survive; the provider keeps its last state
            logger.exception("flagport: switching the migration's comparison window failed")
