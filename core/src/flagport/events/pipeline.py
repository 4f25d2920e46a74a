"""The event pipeline: events leave the request path at once and reach every sink.

``submit`` cuts a record to the event bounds (:mod:`flagport.events.bounds`) and
appends it to each sink's queue, bounded in events and in bytes (no model is built,
no I/O happens on the caller's thread). Each sink has its own worker thread
(:mod:`flagport.events.worker`), started on first use in each process, which turns
records into events and delivers them in batches, so a sink that raises or stalls
only affects itself, and an event that cannot be delivered only itself. Every queue
counts what it accepted, delivered, failed to deliver, dropped, holds and is
delivering.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from flagport._records import Record
from flagport.errors import shown
from flagport.events.bounds import EventBounds, flat_size
from flagport.events.settings import EventSettings
from flagport.events.sinks import Sink, build_sink
from flagport.events.worker import SinkWorker
from flagport.plugins import sink_factories

if TYPE_CHECKING:
    from flagport.events.model import Event
    from flagport.events.worker import Prepared
    from flagport.provider import Provider

__all__ = ["EventPipeline", "Record", "record_dict", "record_event"]

logger = logging.getLogger("flagport.events")

#: Estimated JSON bytes of an event besides its name, user and metadata.
_ENVELOPE = 160
#: Distinct event names whose truncation is logged; later ones are only counted.
_LOGGED_TRUNCATIONS = 100


def record_event(rec: Record) -> Event:
    """The :class:`Event` model of a record."""
    # The model is built with the first event object, not with the pipeline.
    from flagport.events.model import Event

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


class EventPipeline:
    """Batches events off the request path to every configured sink.

    :param settings: the event settings.
    :param provider: returns the active provider (for the ``provider`` sink).
    :param registered: the sink factories by name; by default those the plugins (the
        built-in one included) register through ``flagport_register_sinks``.
    """

    def __init__(
        self,
        settings: EventSettings,
        provider: Callable[[], Provider],
        registered: Mapping[str, Callable[[EventSettings], Sink]] | None = None,
    ) -> None:
        self.settings = settings
        self.bounds = EventBounds(settings.max_event_depth, settings.max_event_bytes)
        if registered is None:
            registered = sink_factories(provider)
        self.workers = []
        for spec in settings.sinks:
            sink = build_sink(spec, settings, registered)
            convert = record_event if sink.wants_models else record_dict
            self.workers.append(SinkWorker(sink, settings, convert))
        self._lock = threading.Lock()
        self._running = False
        self._closed = False
        self._logged_truncations: set[str] = set()

    def prepare(self, record: Record) -> Prepared:
        """``record`` cut to the event bounds, its estimated size, and whether it was cut.

        Each part is bounded by :class:`~flagport.events.bounds.EventBounds`, which
        returns it as it is, measured, in the common case (a user already measured, flat
        metadata, short strings). A cut is logged once per event name; each sink counts
        the cut events it takes.
        """
        bounds = self.bounds
        # The common case inline (a user measured before, a name, a short string value,
        # flat metadata): the same result as the general path below, without its calls.
        user = record[2]
        name = record[3]
        value = record[4]
        metadata = record[5]
        limit = bounds.max_bytes
        measured = user.provider_cache.get(bounds.user_key)
        if (
            measured is not None
            and not measured[2]
            and type(name) is str
            and len(name) + 2 <= limit
            and type(metadata) is dict
        ):
            size = flat_size(metadata)
            if size <= limit:
                size += measured[1] + len(name) + 2 + _ENVELOPE
                if type(value) is not str:
                    return (record, size, False)
                if len(value) + 2 <= limit:
                    return (record, size + len(value) + 2, False)
        user, size, user_cut = bounds.user(user)
        name, name_size, name_cut = bounds.value(name)
        value_cut = False
        if type(value) is str:
            value, value_size, value_cut = bounds.value(value)
            size += value_size
        data, data_size, data_cut = bounds.value(metadata)
        size += data_size + name_size + _ENVELOPE
        if not (user_cut or data_cut or value_cut or name_cut):
            if data is not metadata:  # copied, not cut: its mapping keys are now strings
                record = record._replace(metadata=data)
            return (record, size, False)
        cut = record._replace(user=user, name=name, value=value, metadata=data)
        parts = ("name", "metadata", "value", "user attributes")
        cuts = (name_cut, data_cut, value_cut, user_cut)
        self._log_cut(name, next(part for part, was in zip(parts, cuts, strict=True) if was))
        return (cut, size, True)

    def _log_cut(self, name: str, part: str) -> None:
        logged = self._logged_truncations
        if name in logged or len(logged) >= _LOGGED_TRUNCATIONS:
            return
        logged.add(name)
        logger.warning(
            "flagport: event %s had its %s cut to max_event_depth=%d and max_event_bytes=%d "
            "(nested too deep, too large, or referring to itself); counted as truncated "
            "in stats()",
            shown(name),
            part,
            self.bounds.max_depth,
            self.bounds.max_bytes,
        )

    def submit(self, entry: Prepared) -> None:
        """Queue an entry :meth:`prepare` returned for every sink; never blocks on a sink,
        never raises."""
        size = entry[1]
        with self._lock:
            if not self._running and not self._start():
                return
            # The worker's producer side, inlined: this runs once per event and sink.
            # ``accepted`` grows last, so a flush never waits for an event not yet
            # queued (a signal handler may interrupt a producer here).
            for worker in self.workers:
                queue = worker.queue
                if (
                    len(queue) >= worker.max_queue
                    or worker.bytes_in - worker.bytes_out + size > worker.max_bytes
                ):
                    worker.refuse(full=True)
                    continue
                queue.append(entry)
                worker.bytes_in += size
                if entry[2]:
                    worker.truncated += 1
                worker.accepted += 1
                if len(queue) == worker.batch_size:
                    worker.wake.set()

    def _start(self) -> bool:
        if self._closed:
            for worker in self.workers:
                worker.refuse()
            logger.warning("flagport: an event was logged after shutdown and dropped")
            return False
        for worker in self.workers:
            worker.start()
        self._running = True
        return True

    def wake(self) -> None:
        """Ask every worker to deliver what it holds now (a flush that does not wait)."""
        for worker in self.workers:
            worker.wake.set()

    def flush(self, timeout: float = 5.0) -> bool:
        """Deliver everything accepted so far; False if a sink did not finish in time.

        Takes no lock, so a signal handler that interrupted a producer can flush.
        """
        if not self._running:
            return True
        deadline = time.monotonic() + timeout
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
            lost = len(worker.queue) + worker.in_flight
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
        """Counters per sink, keyed by sink name (``name#2`` for a second sink of a name).

        Each sink's counters are one consistent reading: ``accepted`` equals
        ``delivered + failed + dropped + queued + in_flight``.
        """
        counters: dict[str, dict[str, int]] = {}
        with self._lock:
            for worker in self.workers:
                key, n = worker.sink.name, 1
                while key in counters:
                    n += 1
                    key = f"{worker.sink.name}#{n}"
                counters[key] = worker.stats()
        return counters
