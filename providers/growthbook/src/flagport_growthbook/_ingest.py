"""Delivery of events to GrowthBook's ingestor (``POST <host>/track?client_key=...``).

The SDK's tracking plugin sends each batch from a fire-and-forget daemon thread, so
a process that exits right after ``destroy()`` loses its last batch. This sender
keeps the same wire format but owns its worker, so :meth:`IngestSender.flush` and
:meth:`IngestSender.close` return only when the queue was delivered (or their
timeout passed), and it counts what it could not deliver.

Each post must be over within ``timeout`` (flagport's deadline transport, as for the
features download: a per-read timeout lets an ingestor dripping its answer hold the
worker for ever), its answer's body is never read, and a redirect is not followed (the
body holds users' attributes). :meth:`IngestSender.close` hangs up the post in flight
once its timeout is spent and drops what is still queued, so no worker outlives it by
more than a moment.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections import deque
from typing import Any

import httpx

from flagport._redirects import shown_origin
from flagport.providers.local.url_wire import DeadlineTransport

__all__ = ["IngestSender"]

logger = logging.getLogger("flagport.growthbook")


class IngestSender:
    """A bounded queue of ingest rows and the one worker thread that posts them.

    The worker starts with the first row, so a sender that never sends costs no
    thread (and one built before a ``fork()`` has none to lose).

    :param url: the full ``/track?client_key=...`` URL.
    :param user_agent: the ``User-Agent`` header (the SDK's own).
    :param batch_size: rows per POST.
    :param flush_interval: longest wait of a row before it is posted, in seconds.
    :param max_queue: rows held; beyond it new rows are dropped and counted.
    :param timeout: HTTP timeout of one POST, in seconds.
    """

    def __init__(
        self,
        url: str,
        user_agent: str,
        *,
        batch_size: int = 100,
        flush_interval: float = 1.0,
        max_queue: int = 10_000,
        timeout: float = 10.0,
    ) -> None:
        self.url = url
        self.user_agent = user_agent
        self.batch_size = batch_size
        self.flush_interval = flush_interval
        self.max_queue = max_queue
        self.timeout = timeout
        self.sent = 0
        self.dropped = 0
        self.failed = 0
        self._queue: deque[dict[str, Any]] = deque()
        self._cond = threading.Condition()
        self._in_flight = 0
        self._flush_requested = False
        self._closed = False
        self._thread: threading.Thread | None = None
        self._wire = DeadlineTransport()
        self._client = httpx.Client(transport=self._wire, timeout=timeout)

    def send(self, row: dict[str, Any]) -> None:
        """Queue one row; never blocks on the network."""
        with self._cond:
            if self._closed or len(self._queue) >= self.max_queue:
                self.dropped += 1
                if self.dropped == 1:
                    logger.warning(
                        "flagport-growthbook: dropping events (%s); stats() counts them",
                        "sender closed" if self._closed else f"queue full at {self.max_queue}",
                    )
                return
            self._queue.append(row)
            if self._thread is None:
                self._thread = threading.Thread(
                    target=self._run, name="flagport-growthbook-ingest", daemon=True
                )
                self._thread.start()
            if len(self._queue) >= self.batch_size:
                self._cond.notify_all()

    def flush(self, timeout: float = 5.0) -> bool:
        """Post everything queued now; True when the queue drained within ``timeout``."""
        deadline = time.monotonic() + timeout
        with self._cond:
            if self._thread is None:
                return not self._queue
            self._flush_requested = True
            self._cond.notify_all()
            while self._queue or self._in_flight:
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self._cond.wait(left)
            return True

    def close(self, timeout: float = 5.0) -> bool:
        """Deliver what is queued within ``timeout`` (the rest is dropped and counted),
        and stop the worker."""
        deadline = time.monotonic() + timeout
        delivered = self.flush(timeout * 0.8)
        with self._cond:
            self._closed = True
            if self._queue or self._in_flight:
                logger.warning(
                    "flagport-growthbook: %d event(s) not delivered to the ingestor at %s "
                    "before shutdown; stats() counts them",
                    len(self._queue) + self._in_flight,
                    shown_origin(self.url),
                )
                self.dropped += len(self._queue)  # the batch in flight counts as failed
                self._queue.clear()
            # A post still in flight ends now (a new one is not started: closed).
            self._wire.backend.hang_up()
            self._cond.notify_all()
            thread = self._thread
        if thread is not None and thread is not threading.current_thread():
            thread.join(max(0.0, deadline - time.monotonic()))
        self._client.close()
        return delivered

    def pending(self) -> int:
        with self._cond:
            return len(self._queue) + self._in_flight

    def _run(self) -> None:
        while True:
            with self._cond:
                deadline = time.monotonic() + self.flush_interval
                while (
                    not self._closed
                    and not self._flush_requested
                    and len(self._queue) < self.batch_size
                ):
                    left = deadline - time.monotonic()
                    if left <= 0:
                        break
                    self._cond.wait(left)
                if not self._queue:
                    self._flush_requested = False
                    self._cond.notify_all()
                    if self._closed:
                        return
                    continue
                batch = [
                    self._queue.popleft() for _ in range(min(self.batch_size, len(self._queue)))
                ]
                self._in_flight = len(batch)
            ok = self._post(batch)
            with self._cond:
                self._in_flight = 0
                if ok:
                    self.sent += len(batch)
                else:
                    self.failed += len(batch)
                if not self._queue:
                    self._flush_requested = False
                self._cond.notify_all()

    def _post(self, batch: list[dict[str, Any]]) -> bool:
        body = json.dumps(batch, separators=(",", ":")).encode("utf-8")
        headers = {
            # text/plain, as the SDK sends it: no CORS preflight at the ingestor.
            "Content-Type": "text/plain",
            "Accept": "application/json",
            "User-Agent": self.user_agent,
        }
        backend = self._wire.backend
        with self._cond:
            if self._closed:
                return False  # close() gave up on the queue: not started
            backend.deadline = time.monotonic() + self.timeout
        try:
            with self._client.stream("POST", self.url, content=body, headers=headers) as answer:
                status = answer.status_code
        except (httpx.HTTPError, RuntimeError) as exc:  # RuntimeError: closed meanwhile
            if not self._closed:
                logger.warning(
                    "flagport-growthbook: %d event(s) not delivered to the ingestor at %s "
                    "(%s); check ingestor_host, or raise http_timeout",
                    len(batch),
                    shown_origin(self.url),
                    str(exc) or type(exc).__name__,
                )
            return False
        finally:
            backend.deadline = None
        if status >= 300:
            logger.warning(
                "flagport-growthbook: the ingestor at %s answered HTTP %d to %d event(s)",
                shown_origin(self.url),
                status,
                len(batch),
            )
            return False
        return True
