"""The event pipeline: events leave the request path at once and reach every sink.

``submit`` appends a small tuple to each sink's bounded queue (no model is built,
no I/O happens on the caller's thread). Each sink has its own worker thread,
started on first use in each process, which turns records into events and delivers
them in batches, so a sink that raises or stalls only affects itself. Every queue
counts what it accepted, delivered, failed to deliver and dropped.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from flagport.events.model import Event, EventKind, FlagKind
from flagport.events.settings import EventSettings
from flagport.events.sinks import Sink, build_sink

if TYPE_CHECKING:
    from flagport.provider import Provider
    from flagport.user import User

__all__ = ["EventPipeline", "Record", "record_dict", "record_event"]

logger = logging.getLogger("flagport.events")

# (time, kind, user, name, value, metadata, provider, flag_kind, group, rule_id)
Record = tuple[
    float,
    EventKind,
    "User",
    str,
    float | str | None,
    dict[str, Any],
    str | None,
    FlagKind | None,
    str | None,
    str | None,
]


def record_event(rec: Record) -> Event:
    """The :class:`Event` model of a record."""
    t, kind, user, name, value, metadata, provider, flag_kind, group, rule_id = rec
    return Event(
        kind=kind,
        name=name,
        user=user,
        value=value,
        metadata=metadata,
        time=t,
        provider=provider,
        flag_kind=flag_kind,
        group=group,
        rule_id=rule_id,
    )


def record_dict(rec: Record) -> dict[str, Any]:
    """A record as JSON-ready data, identical to ``record_event(rec).model_dump(mode="json")``.

    Shares the user's cached event view and the record's metadata (a private copy made
    by ``log_event``): serialise it, do not modify it.
    """
    t, kind, user, name, value, metadata, provider, flag_kind, group, rule_id = rec
    return {
        "kind": kind.value,
        "name": name,
        "user": user.event_view,
        "value": value,
        "metadata": metadata,
        "time": t,
        "provider": provider,
        "flag_kind": flag_kind.value if flag_kind is not None else None,
        "group": group,
        "rule_id": rule_id,
    }


class SinkWorker:
    """One sink, its bounded queue, its thread and its counters."""

    def __init__(self, sink: Sink, settings: EventSettings) -> None:
        self.sink = sink
        self.max_queue = settings.max_queue
        self.batch_size = settings.batch_size
        self.interval = settings.flush_interval
        self._convert: Callable[[Record], Any] = record_event if sink.wants_models else record_dict
        self._reset()

    def _reset(self) -> None:
        self.queue: deque[Record] = deque()
        self.accepted = 0  # written under the pipeline lock
        self.dropped = 0  # written under the pipeline lock
        self.delivered = 0  # written by the worker thread only
        self.failed = 0  # written by the worker thread only
        self.wake = threading.Event()
        self.done = threading.Condition()
        self.thread: threading.Thread | None = None
        self.stopping = False
        self._logged_failure = False

    def start(self) -> None:
        self.thread = threading.Thread(
            target=self._run, name=f"flagport-events-{self.sink.name}", daemon=True
        )
        self.thread.start()

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
        except Exception:
            logger.exception("flagport: closing event sink %r failed", self.sink.name)

    def _drain(self) -> None:
        queue = self.queue
        while queue:
            records: list[Record] = []
            try:
                while len(records) < self.batch_size:
                    records.append(queue.popleft())
            except IndexError:
                pass
            try:
                self.sink.deliver([self._convert(r) for r in records])
            except Exception as exc:
                self.failed += len(records)
                if not self._logged_failure:
                    self._logged_failure = True
                    logger.error(
                        "flagport: event sink %r failed (%s: %s); its events are counted as "
                        "failed in stats()",
                        self.sink.name,
                        type(exc).__name__,
                        exc,
                    )
            else:
                self.delivered += len(records)
            with self.done:
                self.done.notify_all()

    def wait(self, target: int, deadline: float) -> bool:
        """Wait until ``target`` accepted events were delivered or failed, or the deadline."""
        self.wake.set()
        with self.done:
            while self.delivered + self.failed < target:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return False
                self.done.wait(min(remaining, 0.05))
                self.wake.set()
        return True

    def stats(self) -> dict[str, int]:
        return {
            "accepted": self.accepted,
            "delivered": self.delivered,
            "failed": self.failed,
            "dropped": self.dropped,
            "queued": len(self.queue),
        }


class EventPipeline:
    """Batches events off the request path to every configured sink.

    :param settings: the event settings.
    :param provider: returns the active provider (for the ``provider`` sink).
    :param registered: sink factories contributed by plugins.
    """

    def __init__(
        self,
        settings: EventSettings,
        provider: Callable[[], Provider],
        registered: dict[str, Callable[[EventSettings], Sink]] | None = None,
    ) -> None:
        self.settings = settings
        self.workers = [
            SinkWorker(build_sink(spec, settings, provider, registered or {}), settings)
            for spec in settings.sinks
        ]
        self._lock = threading.Lock()
        self._running = False
        self._closed = False

    def submit(self, record: Record) -> None:
        """Queue a record for every sink; never blocks on a sink, never raises."""
        with self._lock:
            if not self._running and not self._start():
                return
            for worker in self.workers:
                queue = worker.queue
                if len(queue) >= worker.max_queue:
                    worker.dropped += 1
                    continue
                queue.append(record)
                worker.accepted += 1
                if len(queue) == worker.batch_size:
                    worker.wake.set()

    def _start(self) -> bool:
        if self._closed:
            for worker in self.workers:
                worker.dropped += 1
            logger.warning("flagport: an event was logged after shutdown and dropped")
            return False
        for worker in self.workers:
            worker.start()
        self._running = True
        return True

    def flush(self, timeout: float = 5.0) -> bool:
        """Deliver everything accepted so far; False if a sink did not finish in time."""
        if not self._running:
            return True
        deadline = time.monotonic() + timeout
        with self._lock:
            targets = [worker.accepted for worker in self.workers]
        ok = True
        for worker, target in zip(self.workers, targets, strict=True):
            ok = worker.wait(target, deadline) and ok
        return ok

    def shutdown(self, timeout: float = 5.0) -> bool:
        """Flush, stop the workers and close the sinks; bounded by ``timeout``."""
        deadline = time.monotonic() + timeout
        ok = self.flush(timeout)
        with self._lock:
            self._closed = True
            running, self._running = self._running, False
        if running:
            for worker in self.workers:
                worker.stopping = True
                worker.wake.set()
            for worker in self.workers:
                if worker.thread is not None:
                    worker.thread.join(max(0.0, deadline - time.monotonic()))
        for worker in self.workers:
            lost = len(worker.queue)
            if lost:
                logger.warning(
                    "flagport: event sink %r did not take %d events before shutdown",
                    worker.sink.name,
                    lost,
                )
        return ok

    def after_fork_in_child(self) -> None:
        """Start over in a forked child: the parent delivers what it had queued."""
        self._lock = threading.Lock()
        self._running = False
        for worker in self.workers:
            worker._reset()

    def stats(self) -> dict[str, dict[str, int]]:
        """Counters per sink, keyed by sink name (``name#2`` for a second sink of a name)."""
        counters: dict[str, dict[str, int]] = {}
        for worker in self.workers:
            key, n = worker.sink.name, 1
            while key in counters:
                n += 1
                key = f"{worker.sink.name}#{n}"
            counters[key] = worker.stats()
        return counters
