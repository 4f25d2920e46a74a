"""One sink's queue, thread and counters.

Producers (``log_event`` callers) append under the pipeline's lock (in
:meth:`~flagport.events.pipeline.EventPipeline.submit`); the worker
thread takes batches off the queue without that lock, so a flush from a signal
handler that interrupted a producer still completes. Every event a sink was given
is in exactly one of its counters at every instant::

    accepted = delivered + failed + dropped + queued + in_flight

The worker's own counters change inside a sequence lock (``_version`` odd while it
moves events from one counter to another), which :meth:`SinkWorker.stats` retries
on, so a reader never sees an event twice or nowhere.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from flagport.errors import describe, shown
from flagport.events.settings import EventSettings
from flagport.events.sinks import Sink

if TYPE_CHECKING:
    from flagport.events.pipeline import Record

    Prepared = tuple[Record, int, bool]
    """A record cut to the event bounds, its estimated JSON size, whether it was cut.

    A plain tuple: it is built once per event on the caller's thread."""

__all__ = ["SinkWorker"]

logger = logging.getLogger("flagport.events")

#: Readings stats() attempts while the worker moves a batch between counters.
_STATS_TRIES = 10_000
#: Distinct (event name, error) failures logged per sink; later ones are only counted.
_LOGGED_FAILURES = 20
#: Characters of a sink's error quoted in its log line.
_MAX_DESCRIPTION = 300


class SinkWorker:
    """One sink, its bounded queue, its thread and its counters.

    :param convert: turns a record into what the sink takes (an event or a dict).
    """

    def __init__(
        self, sink: Sink, settings: EventSettings, convert: Callable[[Record], Any]
    ) -> None:
        self.sink = sink
        self.max_queue = settings.max_queue
        self.max_bytes = settings.max_queue_bytes
        self.batch_size = settings.batch_size
        self.interval = settings.flush_interval
        self._convert = convert
        self._reset()

    def _reset(self) -> None:
        self.queue: deque[Prepared] = deque()
        # Written by producers under the pipeline lock.
        self.accepted = 0
        self.dropped = 0
        self.truncated = 0
        self.bytes_in = 0
        # Written by the worker thread only, inside the sequence lock.
        self.delivered = 0
        self.failed = 0
        self.in_flight = 0
        self.bytes_out = 0
        self._version = 0
        self.wake = threading.Event()
        self.done = threading.Condition()
        self.thread: threading.Thread | None = None
        self.stopping = False
        self._logged_failures: set[tuple[str, str]] = set()
        self._logged_drop = False

    def start(self) -> None:
        self.thread = threading.Thread(
            target=self._run, name=f"flagport-events-{self.sink.name}", daemon=True
        )
        self.thread.start()

    # -- the producer side (under the pipeline lock) --------------------------------
    def refuse(self, *, full: bool = False) -> None:
        """Count an event dropped because the queue is full, or arrived after shutdown."""
        self.dropped += 1
        self.accepted += 1
        if full and not self._logged_drop:
            self._logged_drop = True
            logger.warning(
                "flagport: event sink %r is full (max_queue=%d, max_queue_bytes=%d); "
                "new events are dropped and counted in stats()",
                self.sink.name,
                self.max_queue,
                self.max_bytes,
            )

    # -- the worker thread ----------------------------------------------------------
    def _run(self) -> None:
        while True:
            self.wake.wait(self.interval)
            self.wake.clear()
            self._drain()
            if self.stopping:
                self._drain()
                break
        try:
            self.sink.close()
        except Exception as exc:  # one line: what the sink said (a traceback at debug)
            logger.warning(
                "flagport: closing event sink %r failed (%s)", self.sink.name, describe(exc)
            )
            logger.debug("closing event sink %r failed", self.sink.name, exc_info=True)

    def _drain(self) -> None:
        queue = self.queue
        while queue:
            self._version += 1
            entries: list[Prepared] = []
            try:
                while len(entries) < self.batch_size:
                    entries.append(queue.popleft())
            except IndexError:
                pass
            self.in_flight = len(entries)
            self._version += 1
            failed = self._deliver([entry[0] for entry in entries])
            self._version += 1
            self.failed += failed
            self.delivered += len(entries) - failed
            self.bytes_out += sum(entry[1] for entry in entries)
            self.in_flight = 0
            self._version += 1
            with self.done:
                self.done.notify_all()

    def _deliver(self, records: list[Record]) -> int:
        """Deliver one batch; returns how many of its events failed."""
        convert = self._convert
        failed = 0
        try:
            items = [convert(record) for record in records]
        except Exception:
            # Some record does not convert: one at a time, to count it alone.
            items, kept = [], []
            for record in records:
                try:
                    items.append(convert(record))
                except Exception as exc:
                    failed += 1
                    self._log_failure(record[3], exc)
                else:
                    kept.append(record)
            records = kept
        if not items:
            return failed
        try:
            rejected = self.sink.deliver(items)
        except Exception as exc:
            self._log_failure(None, exc)
            return failed + len(items)
        if not rejected:
            return failed
        for index, error in rejected:
            self._log_failure(records[index][3], error)
        return failed + len(rejected)

    def _log_failure(self, event: str | None, exc: BaseException) -> None:
        # The event's name and the error, never the event's data; one bounded line.
        name = "" if event is None else shown(event)
        key = (name, type(exc).__name__)
        logged = self._logged_failures
        if key in logged or len(logged) > _LOGGED_FAILURES:
            return
        logged.add(key)
        if len(logged) > _LOGGED_FAILURES:
            logger.error(
                "flagport: event sink %r keeps failing; further failures are only counted "
                "in stats()",
                self.sink.name,
            )
            return
        what = "a batch of events" if event is None else f"event {name}"
        logger.error(
            "flagport: event sink %s could not take %s (%s); counted as failed in stats()",
            shown(self.sink.name),
            what,
            describe(exc, _MAX_DESCRIPTION, one_line=True),
        )

    # -- readers --------------------------------------------------------------------
    def wait(self, target: int, deadline: float) -> bool:
        """Wait until the first ``target`` accepted events were delivered, failed or
        dropped, or the deadline passed."""
        self.wake.set()
        with self.done:
            while self.delivered + self.failed + self.dropped < target:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return False
                self.done.wait(min(remaining, 0.05))
                self.wake.set()
        return True

    def stats(self) -> dict[str, int]:
        """The counters, consistent with each other (call under the pipeline lock)."""
        for _ in range(_STATS_TRIES):
            version = self._version
            counters = self._read()
            if not version & 1 and self._version == version:
                return counters
            time.sleep(0)  # let the worker finish moving its batch
        # A worker stopped inside its window (frozen at interpreter exit): a reading that
        # may be off by one batch is better than none.
        return self._read()

    def _read(self) -> dict[str, int]:
        return {
            "accepted": self.accepted,
            "delivered": self.delivered,
            "failed": self.failed,
            "dropped": self.dropped,
            "queued": len(self.queue),
            "in_flight": self.in_flight,
            "queued_bytes": self.bytes_in - self.bytes_out,
            "truncated": self.truncated,
        }
