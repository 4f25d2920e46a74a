"""FeatBit's data sync, with the env secret kept on the server of ``streaming_url``.

FeatBit's SDK opens its websocket with websocket-client and sends the env secret as the
``Authorization`` header of the upgrade (and, cut in two around a timestamp, as the
``token`` query parameter). websocket-client follows up to three redirects of the
upgrade to any server and sends the same headers there. :class:`KeyStaysHomeStreaming`
is the SDK's own ``Streaming`` (through ``Config.update_processor_imp``) whose
connections follow a redirect only within the origin they were opened for, or from
``ws`` up to ``wss`` on its host (:mod:`flagport._redirects`, the rule of the ``--live``
importer too); one to another server fails like an unreachable server, and the SDK
retries after its backoff.

The token changes on every connection: each one is registered with flagport's log
redaction while it is current, since websocket-client's trace logs the upgrade's URL.

websocket-client reads a message of whatever length the server announces (a frame
header may announce 2**63 bytes) or keeps adding fragments for as long as they come:
each connection here reads at most :data:`MESSAGE_LIMIT` bytes (64 MiB) for one
message, then fails like a broken connection (one warning, the SDK reconnects after
its backoff), and stops reading at once when the app is closed, even mid-message.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from functools import partial
from typing import Any
from urllib.parse import parse_qs, urlsplit

import websocket
from fbclient.streaming import Streaming

from flagport._documents import MAX_DOCUMENT_BYTES
from flagport._redact import protect, release
from flagport._redirects import RedirectRefused, SameServer, shown_origin

__all__ = ["KeyStaysHomeStreaming", "streaming_factory"]

logger = logging.getLogger("flagport.featbit")

#: The most one data-sync message may take, in bytes.
MESSAGE_LIMIT = MAX_DOCUMENT_BYTES
#: How often the websocket's read loop looks whether it was closed (seconds).
_WAKE_S = 1.0
#: The data sync's redirects: within streaming_url's server, or up to TLS on its host.
_UPGRADE = SameServer("the websocket upgrade", "streaming_url", "the env_secret")


def connect_within_origin(ws: websocket.WebSocket, url: str, **options: Any) -> None:
    """``ws.connect(url, **options)``, following a redirect only as
    :class:`flagport._redirects.SameServer` allows.

    :raises websocket.WebSocketException: a redirect not followed (to another server,
        from TLS to plain text, without a ``Location``, the fourth in a row), or as
        ``connect``.
    """
    try:
        _UPGRADE.connect(ws, url, **options)
    except RedirectRefused as exc:
        # websocket-client's own kind: the SDK retries after its backoff, as for a
        # server that cannot be reached.
        raise websocket.WebSocketException(str(exc)) from None


class _MessageLimit:
    """One connection's reads: at most ``limit`` bytes for one message, none once
    ``closed()``.

    :param ws: the connection; its frame reader and message loop are rerouted here.
    :param closed: True once the app was closed (shutdown).
    :param too_big: called with the limit when a message goes past it.
    """

    def __init__(
        self,
        ws: websocket.WebSocket,
        closed: Callable[[], bool],
        too_big: Callable[[int], None],
        limit: int | None = None,
    ) -> None:
        self._read = ws.frame_buffer.recv
        self._next = ws.recv_data_frame
        self._closed = closed
        self._too_big = too_big
        self.limit = MESSAGE_LIMIT if limit is None else limit
        self.received = 0
        # The frame reader was given the connection's bound read when it was built.
        ws.frame_buffer.recv = self.recv
        ws.recv_data_frame = self.recv_data_frame  # type: ignore[method-assign]

    def recv(self, bufsize: int) -> bytes:
        if self._closed():
            raise websocket.WebSocketConnectionClosedException("closed by flagport")
        data: bytes = self._read(bufsize)
        self.received += len(data)
        if self.received > self.limit + 16:  # a frame header's bytes too
            self._too_big(self.limit)
            raise websocket.WebSocketPayloadException(
                f"a data-sync message over {self.limit:,} bytes"
            )
        return data

    def recv_data_frame(self, control_frame: bool = False) -> tuple[Any, Any]:
        self.received = 0  # what a message may take is counted from its first byte
        try:
            return self._next(control_frame)
        finally:
            self.received = 0


class _KeyStaysHomeApp(websocket.WebSocketApp):
    """The SDK's ``WebSocketApp``, whose every connection follows redirects only within
    its origin. ``run_forever`` builds a new ``WebSocket`` per connection and assigns it
    to ``sock`` right before connecting, so the assignment is where it is adapted.

    It also stops for good once closed. websocket-client's read loop waits in
    ``select()`` without a timeout, so a ``close()`` landing between the connect and that
    wait (a shutdown right after a start) closes the socket under it (epoll forgets a
    closed descriptor) and the SDK's streaming thread waited forever; and a ``close()``
    before ``run_forever`` was undone by it (it sets ``keep_running``). Here it does not
    connect once closed, and the read loop wakes every :data:`_WAKE_S` seconds and sees
    ``keep_running`` cleared, which nothing sets again after a close (the SDK builds a
    new app for each connection).
    """

    def __setattr__(self, name: str, value: Any) -> None:
        if name == "sock" and value is not None:
            value.connect = partial(connect_within_origin, value)
            _MessageLimit(
                value,
                lambda: bool(self.__dict__.get("_closed_for_good")),
                self.__dict__.get("too_big") or (lambda limit: None),
            )
        elif name == "keep_running" and value and self.__dict__.get("_closed_for_good"):
            value = False
        super().__setattr__(name, value)

    def run_forever(self, *args: Any, **kwargs: Any) -> bool:
        if self.__dict__.get("_closed_for_good"):
            return False  # closed before it ran: never connects
        # Without ping_interval no ping is sent: the timeout only bounds each wait.
        if not kwargs.get("ping_interval") and kwargs.get("ping_timeout") is None:
            kwargs["ping_timeout"] = _WAKE_S
        return bool(super().run_forever(*args, **kwargs))

    def close(self, **kwargs: Any) -> None:
        self._closed_for_good = True
        super().close(**kwargs)


class _NoBroadcast:
    """``Config.update_processor_imp`` gets no broadcaster: the flag change notices of
    FeatBit's ``FlagTracker``, which flagport does not use (see the provider), go here."""

    def broadcast(self, notice: Any) -> None:
        return None


class KeyStaysHomeStreaming(Streaming):  # type: ignore[misc]
    """FeatBit's ``Streaming``; its websocket follows redirects only within its server."""

    def __init__(self, config: Any, status: Any, ready: threading.Event) -> None:
        super().__init__(config, _NoBroadcast(), status, ready)
        self._origin = shown_origin(str(config.streaming_uri))
        self._said_too_big = False

    def _init_wsapp(self) -> None:
        super()._init_wsapp()
        # Streaming keeps its app in a private attribute; the SDK's version is pinned by
        # the tests that connect through it (tests/featbit/test_redirects.py).
        app = self._Streaming__wsapp
        # The class, not a rebuilt app: everything the SDK gave the app is kept.
        app.__class__ = _KeyStaysHomeApp
        app.too_big = self._too_big
        for token in parse_qs(urlsplit(app.url).query).get("token", []):
            protect(self, token)

    def _too_big(self, limit: int) -> None:
        if not self._said_too_big:  # once: the SDK reconnects, and it may well again
            self._said_too_big = True
            logger.warning(
                "flagport featbit: %s sent a data-sync message over %s bytes, the most "
                "flagport reads; the connection is dropped and the SDK reconnects after its "
                "backoff (the last definitions keep serving); check streaming_url",
                self._origin,
                f"{limit:,}",
            )

    def stop(self) -> None:
        try:
            super().stop()
        finally:
            release(self)


def streaming_factory(config: Any, status: Any, ready: threading.Event) -> Streaming:
    """The ``Config.update_processor_imp`` building a :class:`KeyStaysHomeStreaming`."""
    return KeyStaysHomeStreaming(config, status, ready)
