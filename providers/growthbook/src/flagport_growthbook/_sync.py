"""Keeping definitions fresh: a bounded download and the SDK's SSE client, per provider.

The SDK keeps its fetch cache, ETags, HTTP pool and SSE client on a process-wide
singleton (``growthbook.feature_repo``), whose SSE client is reused by every later
instance and survives ``fork()`` half-alive. This module gives each provider its own
download (:mod:`~flagport_growthbook._download`, bounded where the SDK's is not) and
``SSEClient``, drives them from one daemon thread, and stops them within a bound: the
SDK's own SSE disconnect can wait out its full 10-second timeout. A stream's
``features-updated`` wakes that thread rather than fetching on the stream's own, so a
burst of them costs one download, and a slow one never holds the stream.
"""

from __future__ import annotations

import asyncio
import atexit
import contextlib
import json
import logging
import math
import threading
import time
from collections.abc import Callable
from typing import Any

from growthbook import FeatureRepository, SSEClient

from flagport._redirects import shown_origin
from flagport_growthbook._download import DownloadError, FeaturesDownload

__all__ = ["DefinitionsSync"]

logger = logging.getLogger("flagport.growthbook")

#: Seconds at least between two rounds the stream asked for (by an event, or its end).
WAKE_GAP = 1.0

Payload = dict[str, Any]


class DefinitionsSync:
    """Fetches the payload until it has one, then polls and (optionally) streams.

    :param api_host: GrowthBook API (or proxy) base URL.
    :param client_key: SDK connection key.
    :param decryption_key: key for encrypted payloads, or ``""``.
    :param on_payload: called with each new decrypted payload (from this module's
        threads); it must not raise.
    :param on_health: called with True after a fetch that reached GrowthBook, False
        after one that did not (from this module's threads); it must not raise.
    :param streaming: also subscribe to server-sent events.
    :param refresh_interval: seconds between polls once loaded (0: no polling).
    :param retry_interval: seconds between attempts while nothing is loaded.
    :param http_timeout: connect/read timeout of one request.
    :param reconnect_delay: seconds the SSE client waits before reconnecting.
    """

    def __init__(
        self,
        *,
        api_host: str,
        client_key: str,
        decryption_key: str,
        on_payload: Callable[[Payload], None],
        on_health: Callable[[bool], None],
        streaming: bool,
        refresh_interval: float,
        retry_interval: float,
        http_timeout: float,
        reconnect_delay: int,
    ) -> None:
        self.api_host = api_host.rstrip("/")
        self.client_key = client_key
        self.decryption_key = decryption_key
        self.on_payload = on_payload
        self.on_health = on_health
        self.streaming = streaming
        self.refresh_interval = refresh_interval
        self.retry_interval = retry_interval
        self.http_timeout = http_timeout
        self.reconnect_delay = reconnect_delay
        self.loaded = threading.Event()
        self.fetches = 0
        self.fetch_failures = 0
        self.sse_events = 0
        self._stop = threading.Event()
        self._wake = threading.Event()
        self._repo = FeatureRepository()
        self._download = FeaturesDownload(
            self.api_host, client_key, decryption_key, http_timeout, self._repo
        )
        self._last: Payload | None = None
        #: the last download and stream failures logged (the same one again is not)
        self._failure = ""
        self._stream_failure = ""
        self._sse: SSEClient | None = None
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()

    # -- lifecycle -----------------------------------------------------------------
    def start(self) -> None:
        """Start the worker thread (first fetch happens there at once)."""
        self._thread = threading.Thread(
            target=self._run, name="flagport-growthbook-sync", daemon=True
        )
        self._thread.start()

    def stop(self, timeout: float) -> None:
        """Stop polling and streaming, waiting at most ``timeout`` seconds in all."""
        deadline = time.monotonic() + timeout
        self._stop.set()
        self._wake.set()
        self._download.hang_up()  # a download in flight is given up: nothing would apply it
        with self._lock:
            sse, self._sse = self._sse, None
        if sse is not None:
            self._disconnect(sse, timeout)
        if self._thread is not None and self._thread is not threading.current_thread():
            # The worker may sit in a request until http_timeout; it is a daemon and
            # applies nothing once stopped, so waiting for it is a courtesy only.
            self._thread.join(max(0.0, min(deadline - time.monotonic(), 1.0)))
        self._download.close()

    @property
    def streaming_active(self) -> bool:
        """True while an SSE client runs (connected, or waiting to reconnect)."""
        sse = self._sse
        return sse is not None and sse.is_running

    # -- worker ----------------------------------------------------------------------
    def _run(self) -> None:
        started = 0.0
        while not self._stop.is_set():
            started = time.monotonic()
            # Cleared before the fetch: a wake-up during it asks for another one.
            self._wake.clear()
            try:
                self.fetch()
                if self.loaded.is_set() and self.streaming and not self._stop.is_set():
                    self._ensure_streaming()
            except Exception as exc:
                # Whatever one round met, the next one comes: a dead worker would serve
                # the definitions it has for ever and never see GrowthBook again.
                if not self._stop.is_set():
                    logger.error("flagport-growthbook: syncing features failed: %r", exc)
            if self.loaded.is_set():
                wait = self.refresh_interval if self.refresh_interval > 0 else None
                if self.streaming:
                    # Also the cadence at which a stream the SDK gave up on is reopened.
                    wait = min(wait or 30.0, 30.0)
            else:
                wait = self.retry_interval
            if self._wake.wait(wait):
                # Woken by the stream (a change, or its end): a flood of events, or a
                # stream that breaks as soon as it opens, costs a round a second at most.
                self._stop.wait(started + WAKE_GAP - time.monotonic())

    def fetch(self) -> bool:
        """Fetch the payload once; True when definitions are loaded."""
        if self._stop.is_set():
            return self.loaded.is_set()
        self.fetches += 1
        try:
            payload = self._download.fetch()
        except DownloadError as exc:
            self.fetch_failures += 1
            if self._stop.is_set():
                return self.loaded.is_set()  # given up on by shutdown: nothing to say
            if str(exc) != self._failure:
                self._failure = str(exc)
                logger.warning("flagport-growthbook: %s", exc)
            self.on_health(False)
            return self.loaded.is_set()
        self._failure = ""
        if payload is not None:  # None: not modified since the last payload
            self._apply(payload)
        self.on_health(True)
        return self.loaded.is_set()

    def _apply(self, payload: Payload) -> None:
        # The same payload again (from a server without ETags, or streamed after it
        # was fetched): nothing changed, nothing to rebuild.
        if payload == self._last or self._stop.is_set():
            return
        self._last = payload
        self.on_payload(payload)
        self.loaded.set()

    # -- streaming -------------------------------------------------------------------
    def _ensure_streaming(self) -> None:
        with self._lock:
            if self._sse is not None and self._sse.is_running:
                return
            sse = _Stream(
                api_host=self.api_host,
                client_key=self.client_key,
                on_event=self._on_sse_event,
                reconnect_delay=self.reconnect_delay,
                timeout=max(1, math.ceil(self.http_timeout)),
            )
            sse.on_end = self._stream_ended
            sse.connect()
            # connect() registers an exit hook that, in a forked child, would wait out
            # its timeout on a loop that no longer runs; our provider stops it instead.
            atexit.unregister(sse.disconnect)
            self._sse = sse

    def _stream_ended(self, error: str | None) -> None:
        if error is not None and error != self._stream_failure and not self._stop.is_set():
            self._stream_failure = error
            logger.warning(
                "flagport-growthbook: the stream from %s broke (%s); features are fetched "
                "again and the stream reopened",
                shown_origin(self.api_host),
                error,
            )
        self._wake.set()

    def _on_sse_event(self, event: dict[str, Any]) -> None:
        if self._stop.is_set():
            return
        self.sse_events += 1
        kind = event.get("type")
        if kind == "features-updated":
            self._wake.set()  # the sync thread fetches: one download for a burst
        elif kind == "features":
            try:
                decoded = json.loads(event.get("data") or "{}")
                payload = self._repo.decrypt_response(decoded, self.decryption_key)
            except Exception as exc:
                logger.warning("flagport-growthbook: bad SSE features event: %s", exc)
                return
            if payload:
                self._apply(payload)

    @staticmethod
    def _disconnect(sse: SSEClient, timeout: float) -> None:
        budget = max(0.0, min(timeout, 2.0))
        loop = getattr(sse, "_loop", None)
        thread = getattr(sse, "_sse_thread", None)
        if loop is None or thread is None:
            # Not the SDK layout this was written against: use its own disconnect,
            # aside, and stop waiting when the budget is spent.
            worker = threading.Thread(target=_quiet_disconnect, args=(sse, budget), daemon=True)
            worker.start()
            worker.join(budget)
            return
        # The SDK's disconnect cancels its own stop task along with the stream and
        # can wait out its whole timeout; cancelling the stream task alone lets the
        # SSE thread unwind through its normal clean-up at once.
        sse.is_running = False
        with contextlib.suppress(RuntimeError):  # the loop already finished
            loop.call_soon_threadsafe(_cancel_all, loop)
        thread.join(budget)
        if thread.is_alive():
            logger.warning("flagport-growthbook: SSE thread still running after %.1fs", budget)


class _Stream(SSEClient):
    """The SDK's SSE client, whose end is always known.

    The SDK's stream thread dies on any error its loop does not expect (a line over
    aiohttp's 512 KiB limit, say) with a traceback on stderr, leaving ``is_running``
    True: the stream looks alive for ever and is never reopened. Here the error is one
    warning, ``is_running`` turns False and :attr:`on_end` wakes the sync thread,
    which fetches what the stream may have missed and opens a new one.
    :class:`DefinitionsSync` logs the error, once per distinct one.
    """

    #: called with the error's words (None: the stream ended without one)
    on_end: Callable[[str | None], None] = staticmethod(lambda error: None)

    def _run_sse_channel(self) -> None:
        error = None
        try:
            super()._run_sse_channel()
        except Exception as exc:
            words = " ".join(str(exc).split())
            error = f"{type(exc).__name__}: {words[:200]}"
        finally:
            was_running, self.is_running = self.is_running, False
            if was_running:
                self.on_end(error)


def _cancel_all(loop: asyncio.AbstractEventLoop) -> None:
    for task in asyncio.all_tasks(loop):
        task.cancel()


def _quiet_disconnect(sse: SSEClient, timeout: float) -> None:
    try:
        sse.disconnect(timeout=timeout)
    except Exception as exc:
        logger.debug("flagport-growthbook: SSE disconnect: %s", exc)
