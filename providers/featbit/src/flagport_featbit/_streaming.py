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
"""

from __future__ import annotations

import threading
from functools import partial
from typing import Any
from urllib.parse import parse_qs, urlsplit

import websocket
from fbclient.streaming import Streaming

from flagport._redact import protect, release
from flagport._redirects import RedirectRefused, SameServer

__all__ = ["KeyStaysHomeStreaming", "streaming_factory"]

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

    def _init_wsapp(self) -> None:
        super()._init_wsapp()
        # Streaming keeps its app in a private attribute; the SDK's version is pinned by
        # the tests that connect through it (tests/featbit/test_redirects.py).
        app = self._Streaming__wsapp
        # The class, not a rebuilt app: everything the SDK gave the app is kept.
        app.__class__ = _KeyStaysHomeApp
        for token in parse_qs(urlsplit(app.url).query).get("token", []):
            protect(self, token)

    def stop(self) -> None:
        try:
            super().stop()
        finally:
            release(self)


def streaming_factory(config: Any, status: Any, ready: threading.Event) -> Streaming:
    """The ``Config.update_processor_imp`` building a :class:`KeyStaysHomeStreaming`."""
    return KeyStaysHomeStreaming(config, status, ready)
