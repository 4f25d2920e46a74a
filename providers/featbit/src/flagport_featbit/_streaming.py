"""FeatBit's data sync, with the env secret kept on the server of ``streaming_url``.

FeatBit's SDK opens its websocket with websocket-client and sends the env secret as the
``Authorization`` header of the upgrade (and, cut in two around a timestamp, as the
``token`` query parameter). websocket-client follows up to three redirects of the
upgrade to any server and sends the same headers there. :class:`KeyStaysHomeStreaming`
is the SDK's own ``Streaming`` (through ``Config.update_processor_imp``) whose
connections follow a redirect only within the origin they were opened for (scheme, host
and port, as the ``--live`` importer does); one to another server fails like an
unreachable server, and the SDK retries after its backoff.

The token changes on every connection: each one is registered with flagport's log
redaction while it is current, since websocket-client's trace logs the upgrade's URL.
"""

from __future__ import annotations

import threading
from functools import partial
from typing import Any
from urllib.parse import parse_qs, urljoin, urlsplit

import websocket
from fbclient.streaming import Streaming

from flagport._redact import protect, release

__all__ = ["KeyStaysHomeStreaming", "streaming_factory"]

#: Redirects followed within the server, as many as websocket-client's own limit.
REDIRECTS = 3
_DEFAULT_PORTS = {"ws": 80, "wss": 443}


def _origin(url: str) -> str:
    parts = urlsplit(url)
    port = parts.port or _DEFAULT_PORTS.get(parts.scheme)
    return f"{parts.scheme}://{parts.hostname or '?'}:{port}"


def _shown(url: str) -> str:
    """The origin of ``url`` as a user writes it (no path, no query: no token)."""
    parts = urlsplit(url)
    port = f":{parts.port}" if parts.port else ""
    return f"{parts.scheme}://{parts.hostname or '?'}{port}"


def connect_within_origin(ws: websocket.WebSocket, url: str, **options: Any) -> None:
    """``ws.connect(url, **options)``, following a redirect only within ``url``'s origin.

    :raises websocket.WebSocketException: a redirect to another server, without a
        ``Location``, or more than :data:`REDIRECTS` of them.
    """
    configured, origin = _shown(url), _origin(url)
    for _ in range(REDIRECTS + 1):
        ws.handshake_response = None  # not a redirect answered to an earlier attempt
        try:
            websocket.WebSocket.connect(  # type: ignore[no-untyped-call]
                ws, url, **options, redirect_limit=0
            )
            return
        except websocket.WebSocketException:
            # Typed as always None here: the attempt sets it when the server answered.
            response: Any = ws.handshake_response
            if response is None or not 300 <= response.status < 400:
                raise
        # A socket handed in serves the first connection only (websocket-client's rule).
        options.pop("socket", None)
        location = response.headers.get("location")
        if not location:
            raise websocket.WebSocketException(
                f"{configured} answered the websocket upgrade with HTTP {response.status} "
                "and no Location; check streaming_url"
            )
        url = urljoin(url, location)
        if _origin(url) != origin:
            raise websocket.WebSocketException(
                f"{configured} redirected the websocket upgrade to another server "
                f"({_shown(url)}); not followed: the env_secret is only sent to the server "
                "of streaming_url. Set streaming_url to that server if you trust it"
            )
    raise websocket.WebSocketException(
        f"{configured} redirected the websocket upgrade more than {REDIRECTS} times; "
        "check streaming_url"
    )


class _KeyStaysHomeApp(websocket.WebSocketApp):
    """The SDK's ``WebSocketApp``, whose every connection follows redirects only within
    its origin. ``run_forever`` builds a new ``WebSocket`` per connection and assigns it
    to ``sock`` right before connecting, so the assignment is where it is adapted."""

    def __setattr__(self, name: str, value: Any) -> None:
        if name == "sock" and value is not None:
            value.connect = partial(connect_within_origin, value)
        super().__setattr__(name, value)


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
