"""A loopback GrowthBook server for tests: the real wire protocol on 127.0.0.1.

It answers the three endpoints the GrowthBook SDK and this provider use:

* ``GET /api/features/<client_key>``: the SDK payload (``{"status": 200, "features":
  ..., "dateUpdated": ...}``) with an ``ETag``, and ``304`` to a matching
  ``If-None-Match``;
* ``GET /sub/<client_key>``: a ``text/event-stream`` on which :meth:`push` sends
  ``features`` events (the whole payload) or data-less ``features-updated`` events
  (which make the SDK fetch again);
* ``POST /track?client_key=<key>``: the ingestor; every row received is kept in
  :attr:`events`.

Use it from tests (or your own application's tests)::

    from flagport_growthbook.testing import GrowthBookLoopback

    with GrowthBookLoopback({"features": {...}}) as server:
        fp = Flagport(provider="growthbook", **server.options())
        ...
        server.push({"features": {...}})               # the change reaches the SDK
        server.wait_for_events(lambda e: e["event_name"] == "purchase")
"""

from __future__ import annotations

import contextlib
import copy
import hashlib
import json
import queue
import socket
import threading
import time
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any, Self
from urllib.parse import parse_qs, urlparse

__all__ = ["PURCHASE", "GrowthBookLoopback", "encrypt", "scenario_payload"]

PURCHASE = "purchase"
"""The custom event of the common product scenario."""

Row = dict[str, Any]


def encrypt(plain: str, key: str) -> str:
    """Encrypt a payload section the way GrowthBook does: ``base64(iv).base64(data)``.

    AES-128-CBC with PKCS#7 padding and a random IV; ``key`` is base64 (16 bytes).
    """
    import base64
    import os

    from cryptography.hazmat.primitives import padding
    from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

    iv = os.urandom(16)
    padder = padding.PKCS7(128).padder()
    data = padder.update(plain.encode("utf-8")) + padder.finalize()
    encryptor = Cipher(algorithms.AES128(base64.b64decode(key)), modes.CBC(iv)).encryptor()
    sealed = encryptor.update(data) + encryptor.finalize()
    return base64.b64encode(iv).decode() + "." + base64.b64encode(sealed).decode()


class GrowthBookLoopback:
    """An in-process GrowthBook API, streaming endpoint and ingestor.

    :param payload: the SDK payload to serve (``{"features": ...}``), or a bare
        features map.
    :param client_key: the SDK connection key it answers to.
    :param port: 0 for a free port; a fixed port to come back where a stopped
        server was (to test recovery).
    :param encryption_key: serve ``encryptedFeatures`` (and ``encryptedSavedGroups``)
        encrypted with this base64 AES-128 key, as an encrypted SDK connection does.
    """

    def __init__(
        self,
        payload: Mapping[str, Any] | None = None,
        *,
        client_key: str = "sdk-loopback",
        host: str = "127.0.0.1",
        port: int = 0,
        encryption_key: str | None = None,
    ) -> None:
        self.client_key = client_key
        self.host = host
        self.encryption_key = encryption_key
        self._lock = threading.Condition()
        self._payload: dict[str, Any] = {}
        self._body = b""
        self._etag = ""
        self.set_payload(payload or {"features": {}})
        #: HTTP status the streaming endpoint answers; not 200 refuses streams (as a
        #: proxy in trouble would), which makes the SDK's SSE client give up.
        self.stream_status = 200
        #: Cleared, feature fetches wait (up to 10 s) until it is set again: a test decides
        #: when a fetch lands (within a provider's start, or after it).
        self.answering = threading.Event()
        self.answering.set()
        #: Every request as ``(method, path, headers)``.
        self.requests: list[tuple[str, str, dict[str, str]]] = []
        #: Every ingested batch: ``{"query": ..., "headers": ..., "rows": [...]}``.
        self.batches: list[dict[str, Any]] = []
        self._streams: list[queue.Queue[bytes | None]] = []
        self._connections: set[socket.socket] = set()
        self._httpd = ThreadingHTTPServer((host, port), self._handler())
        self._httpd.daemon_threads = True
        self.port: int = self._httpd.server_address[1]
        self._thread = threading.Thread(
            target=self._httpd.serve_forever,
            kwargs={"poll_interval": 0.05},
            name="growthbook-loopback",
            daemon=True,
        )

    # -- lifecycle -----------------------------------------------------------------
    def start(self) -> Self:
        self._thread.start()
        return self

    def stop(self) -> None:
        """Close every stream, every open connection and the listening socket.

        Afterwards the server is as unreachable as a crashed one: clients holding a
        keep-alive connection see it closed, new connections are refused.
        """
        with self._lock:
            streams = list(self._streams)
            connections = list(self._connections)
        for stream in streams:
            stream.put(None)
        self._httpd.shutdown()
        self._httpd.server_close()
        for connection in connections:
            with contextlib.suppress(OSError):
                connection.shutdown(socket.SHUT_RDWR)

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    @property
    def url(self) -> str:
        """Base URL, for both ``api_host`` and ``ingestor_host``."""
        return f"http://{self.host}:{self.port}"

    def options(self, **overrides: Any) -> dict[str, Any]:
        """Provider options pointing at this server (fast timings for tests)."""
        opts: dict[str, Any] = {
            "client_key": self.client_key,
            "api_host": self.url,
            "ingestor_host": self.url,
            "init_timeout": 5.0,
            "retry_interval": 0.2,
            "http_timeout": 2.0,
            "streaming_reconnect_delay": 1,
            "events_flush_interval": 0.2,
        }
        opts.update(overrides)
        return opts

    # -- definitions -------------------------------------------------------------------
    @property
    def payload(self) -> dict[str, Any]:
        """A copy of the payload served now."""
        with self._lock:
            return copy.deepcopy(self._payload)

    def set_payload(self, payload: Mapping[str, Any]) -> None:
        """Serve ``payload`` from now on (without telling connected streams)."""
        data: dict[str, Any] = (
            dict(payload) if "features" in payload else {"features": dict(payload)}
        )
        data.setdefault("status", 200)
        data["dateUpdated"] = datetime.now(UTC).isoformat(timespec="milliseconds")
        served = dict(data)
        if self.encryption_key:
            for section, encrypted in (
                ("features", "encryptedFeatures"),
                ("savedGroups", "encryptedSavedGroups"),
            ):
                if section in served:
                    plain = json.dumps(served.pop(section))
                    served[encrypted] = encrypt(plain, self.encryption_key)
        body = json.dumps(served).encode("utf-8")
        with self._lock:
            self._payload = data
            self._body = body
            self._etag = '"' + hashlib.sha256(body).hexdigest()[:32] + '"'

    def push(self, payload: Mapping[str, Any], *, inline: bool = True) -> None:
        """Serve ``payload`` and tell every stream about it.

        :param inline: send the payload in a ``features`` event (True), or send a
            data-less ``features-updated`` event so clients fetch it (False).
        """
        self.set_payload(payload)
        with self._lock:
            body = self._body
            streams = list(self._streams)
        frame = (
            b"event: features\ndata: " + body + b"\n\n"
            if inline
            else b"event: features-updated\n\n"
        )
        for stream in streams:
            stream.put(frame)

    @property
    def stream_count(self) -> int:
        """How many SSE clients are connected now."""
        with self._lock:
            return len(self._streams)

    def wait_for_streams(self, count: int = 1, timeout: float = 5.0) -> bool:
        """Wait until at least ``count`` SSE clients are connected."""
        deadline = time.monotonic() + timeout
        with self._lock:
            while len(self._streams) < count:
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self._lock.wait(left)
            return True

    # -- events ------------------------------------------------------------------------
    @property
    def events(self) -> list[Row]:
        """Every ingested row, in arrival order."""
        with self._lock:
            return [row for batch in self.batches for row in batch["rows"]]

    def wait_for_events(
        self, predicate: Callable[[Row], bool] | None = None, count: int = 1, timeout: float = 5.0
    ) -> list[Row]:
        """Wait until ``count`` rows matching ``predicate`` arrived; return them all."""
        deadline = time.monotonic() + timeout
        with self._lock:
            while True:
                rows = [
                    r for b in self.batches for r in b["rows"] if predicate is None or predicate(r)
                ]
                left = deadline - time.monotonic()
                if len(rows) >= count or left <= 0:
                    return rows
                self._lock.wait(left)

    def feature_fetches(self) -> int:
        """How many ``GET /api/features/...`` requests arrived."""
        with self._lock:
            return sum(1 for m, p, _ in self.requests if p.startswith("/api/features/"))

    # -- HTTP ------------------------------------------------------------------------------
    def _handler(self) -> type[BaseHTTPRequestHandler]:
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: Any) -> None:
                return None

            def setup(self) -> None:
                super().setup()
                with server._lock:
                    server._connections.add(self.connection)

            def finish(self) -> None:
                with server._lock:
                    server._connections.discard(self.connection)
                with contextlib.suppress(OSError):
                    super().finish()

            def _reply(
                self, code: int, body: bytes, headers: Mapping[str, str] | None = None
            ) -> None:
                self.send_response(code)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                for key, value in (headers or {}).items():
                    self.send_header(key, value)
                self.end_headers()
                self.wfile.write(body)

            def _record(self, method: str) -> str:
                path = urlparse(self.path).path
                with server._lock:
                    server.requests.append((method, self.path, dict(self.headers)))
                return path

            def do_GET(self) -> None:
                path = self._record("GET")
                if path == f"/api/features/{server.client_key}":
                    server.answering.wait(10.0)
                    with server._lock:
                        body, etag = server._body, server._etag
                    if self.headers.get("If-None-Match") == etag:
                        self.send_response(304)
                        self.send_header("ETag", etag)
                        self.send_header("Content-Length", "0")
                        self.end_headers()
                        return
                    self._reply(200, body, {"ETag": etag})
                elif path == f"/sub/{server.client_key}":
                    if server.stream_status != 200:
                        self._reply(server.stream_status, b'{"error": "unavailable"}')
                    else:
                        self._stream()
                else:
                    self._reply(404, b'{"status": 404, "error": "Invalid API key"}')

            def _stream(self) -> None:
                stream: queue.Queue[bytes | None] = queue.Queue()
                self.send_response(200)
                self.send_header("Content-Type", "text/event-stream")
                self.send_header("Cache-Control", "no-cache")
                self.send_header("Connection", "close")
                self.end_headers()
                self.close_connection = True
                with server._lock:
                    server._streams.append(stream)
                    server._lock.notify_all()
                try:
                    self.wfile.write(b": connected\n\n")
                    self.wfile.flush()
                    while True:
                        try:
                            frame = stream.get(timeout=10)
                        except queue.Empty:
                            frame = b": keep-alive\n\n"
                        if frame is None:
                            return
                        self.wfile.write(frame)
                        self.wfile.flush()
                except OSError:
                    return
                finally:
                    with server._lock:
                        server._streams.remove(stream)
                        server._lock.notify_all()

            def do_POST(self) -> None:
                url = urlparse(self.path)
                self._record("POST")
                size = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(size)
                if url.path != "/track":
                    self._reply(404, b"{}")
                    return
                try:
                    rows = json.loads(body)
                except ValueError:
                    self._reply(400, b'{"error": "body is not JSON"}')
                    return
                with server._lock:
                    server.batches.append(
                        {
                            "query": parse_qs(url.query),
                            "headers": dict(self.headers),
                            "rows": rows if isinstance(rows, list) else [rows],
                        }
                    )
                    server._lock.notify_all()
                self._reply(200, b"{}")

        return Handler


def scenario_payload() -> dict[str, Any]:
    """The common product scenario as a GrowthBook SDK payload (a fresh copy).

    * gate ``new_checkout``: on for country US, and for 50% of everyone else;
    * experiment ``button_color``: control / blue / green, about 1/3 each, with the
      parameter ``{"color": ...}``;
    * config ``pricing``: ``{"discount": 0.1}`` for plan "pro", ``{"discount": 0}``
      otherwise;
    * custom event ``purchase`` (:data:`PURCHASE`).

    Rules set ``hashVersion: 2``, as payloads from GrowthBook do (a rule without it
    hashes with version 1).
    """
    return {
        "status": 200,
        "features": {
            "new_checkout": {
                "defaultValue": False,
                "rules": [
                    {"id": "fr_us", "condition": {"country": "US"}, "force": True},
                    {
                        "id": "fr_rollout50",
                        "force": True,
                        "coverage": 0.5,
                        "hashAttribute": "id",
                        "seed": "new_checkout",
                        "hashVersion": 2,
                    },
                ],
            },
            "button_color": {
                "defaultValue": {"color": "gray"},
                "rules": [
                    {
                        "id": "fr_button_color",
                        "key": "button_color",
                        "seed": "button_color",
                        "hashAttribute": "id",
                        "hashVersion": 2,
                        "coverage": 1,
                        "weights": [0.3334, 0.3333, 0.3333],
                        "variations": [
                            {"color": "gray"},
                            {"color": "blue"},
                            {"color": "green"},
                        ],
                        "meta": [
                            {"key": "control", "name": "Control"},
                            {"key": "blue", "name": "Blue"},
                            {"key": "green", "name": "Green"},
                        ],
                        "name": "Button color",
                        "phase": "0",
                    }
                ],
            },
            "pricing": {
                "defaultValue": {"discount": 0},
                "rules": [
                    {"id": "fr_pro", "condition": {"plan": "pro"}, "force": {"discount": 0.1}}
                ],
            },
        },
        "savedGroups": {},
        "dateUpdated": "2026-01-01T00:00:00.000Z",
    }
