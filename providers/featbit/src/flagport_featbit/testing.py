"""A FeatBit evaluation server on 127.0.0.1 for tests (flag JSON builders re-exported).

:class:`FeatBitLoopback` speaks the wire protocol FeatBit's server SDKs use, so tests
drive the real SDK end to end with no mock in between:

* **data sync**, a websocket at ``<streaming_url>/streaming?token=...&type=server``:
  the SDK sends ``{"messageType": "data-sync", "data": {"timestamp": <ms>}}``; the
  server answers with a ``full`` snapshot (timestamp 0) or a ``patch`` of everything
  newer, and later pushes ``patch`` messages when a test changes a flag. A wrong
  ``Authorization`` header is closed with code 4003, as FeatBit does.
* **insights**, ``POST <event_url>/api/public/insight/track`` with a JSON array of
  evaluation, metric and user records, which the server keeps for assertions.

Start and stop it in-process (ports are picked by the OS)::

    with FeatBitLoopback(scenario_flags()) as server:
        fp = Flagport(provider="featbit", **server.provider_options())
        ...
        server.update_flag("pricing", variations=[variation("v1", {"discount": 0.2})])
        assert server.wait_for(lambda: fp.get_config(user, "pricing").get("discount") == 0.2)

The flag builders live in :mod:`flagport_featbit.flag_json` and are re-exported here.
Needs the ``websockets`` package (``pip install 'flagport-featbit[testing]'``).
"""

from __future__ import annotations

import contextlib
import copy
import json
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from datetime import datetime
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any, Self
from urllib.parse import urljoin, urlsplit

try:
    from websockets.sync.server import Server, ServerConnection, serve
except ImportError as exc:  # pragma: no cover - depends on the environment
    raise ImportError(
        "flagport_featbit.testing needs the 'websockets' package: "
        "pip install 'flagport-featbit[testing]'"
    ) from exc

from flagport_featbit.flag_json import (
    EPOCH_MS,
    condition,
    data_sync,
    in_segment,
    iso,
    make_flag,
    rollout,
    rule,
    scenario_flags,
    segment,
    variation,
)

__all__ = [
    "INSIGHT_PATH",
    "FeatBitLoopback",
    "condition",
    "data_sync",
    "in_segment",
    "make_flag",
    "rollout",
    "rule",
    "scenario_flags",
    "segment",
    "variation",
]

INSIGHT_PATH = "/api/public/insight/track"


class FeatBitLoopback:
    """FeatBit's streaming and insight endpoints on 127.0.0.1, for tests.

    :param flags: the flags served (defaults to :func:`scenario_flags`).
    :param segments: the segments served.
    :param env_secret: the secret clients must send; others are closed with 4003.
    :param port: the websocket port (0: any free port); useful to bring a server up
        where a client is already trying to connect.
    :ivar available: set False to refuse websocket handshakes and insight posts (HTTP 503).
    :ivar redirects: answer a request whose path starts with a key here (``/streaming``,
        :data:`INSIGHT_PATH`) with a redirect to its value, a URL here or elsewhere, with
        status :attr:`redirect_status`; a request for that very URL's path is served, so
        a redirect within this server ends there.
    """

    def __init__(
        self,
        flags: Iterable[Mapping[str, Any]] | None = None,
        segments: Iterable[Mapping[str, Any]] = (),
        *,
        env_secret: str = "loopback-env-secret",
        port: int = 0,
        event_port: int = 0,
        host: str = "127.0.0.1",
    ) -> None:
        self.env_secret = env_secret
        self.host = host
        self.available = True
        self.redirects: dict[str, str] = {}
        self.redirect_status = HTTPStatus.TEMPORARY_REDIRECT
        self._lock = threading.Condition()
        self._flags = {
            f["key"]: copy.deepcopy(dict(f))
            for f in (flags if flags is not None else scenario_flags())
        }
        self._segments = {s["id"]: copy.deepcopy(dict(s)) for s in segments}
        self._clock = max(
            [EPOCH_MS]
            + [_ms(item["updatedAt"]) for item in [*self._flags.values(), *self._segments.values()]]
        )
        self._connections: list[ServerConnection] = []
        #: Every item of every insight POST, in arrival order.
        self.insights: list[dict[str, Any]] = []
        #: ``(path, headers)`` of every websocket handshake and HTTP request.
        self.requests: list[tuple[str, dict[str, str]]] = []
        #: Every message clients sent on the websocket.
        self.received: list[dict[str, Any]] = []
        self._ws: Server | None = None
        self._http: ThreadingHTTPServer | None = None
        self._ports = (port, event_port)
        self._threads: list[threading.Thread] = []

    # -- lifecycle ------------------------------------------------------------------------
    def start(self) -> Self:
        """Listen and serve on background threads."""
        self._ws = serve(
            self._handle,
            self.host,
            self._ports[0],
            process_request=self._handshake,
            close_timeout=0.5,
            ping_interval=None,
            compression=None,
        )
        self._http = ThreadingHTTPServer((self.host, self._ports[1]), _handler(self))
        self._http.daemon_threads = True
        self._ports = (self._ws.socket.getsockname()[1], self._http.server_address[1])
        for target, name in ((self._ws.serve_forever, "ws"), (self._http.serve_forever, "http")):
            thread = threading.Thread(target=target, name=f"featbit-loopback-{name}", daemon=True)
            thread.start()
            self._threads.append(thread)
        return self

    def stop(self) -> None:
        """Close every connection and stop listening (the instance can start again)."""
        ws, http = self._ws, self._http
        self._ws = self._http = None
        if ws is not None:
            ws.shutdown()
        if http is not None:
            http.shutdown()
            http.server_close()
        for thread in self._threads:
            thread.join(5)
        self._threads.clear()

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
    def streaming_url(self) -> str:
        return f"ws://{self.host}:{self._ports[0]}"

    @property
    def event_url(self) -> str:
        return f"http://{self.host}:{self._ports[1]}"

    def provider_options(self, **extra: Any) -> dict[str, Any]:
        """Options pointing the ``featbit`` provider here, with quick test timings."""
        options: dict[str, Any] = {
            "env_secret": self.env_secret,
            "streaming_url": self.streaming_url,
            "event_url": self.event_url,
            "start_wait": 5.0,
            "events_flush_interval": 0.2,
            "streaming_first_retry_delay": 0.1,
            "connect_timeout": 2.0,
        }
        options.update(extra)
        return options

    # -- definitions ------------------------------------------------------------------------
    def _tick(self) -> int:
        self._clock = max(self._clock + 1, int(time.time() * 1000))
        return self._clock

    def bootstrap(self) -> dict[str, Any]:
        """The current definitions as a data-sync message (for offline ``bootstrap``)."""
        with self._lock:
            return data_sync(self._flags.values(), self._segments.values())

    def flag(self, key: str) -> dict[str, Any]:
        """A copy of the flag as currently served."""
        with self._lock:
            return copy.deepcopy(self._flags[key])

    def set_flag(self, flag: Mapping[str, Any]) -> None:
        """Add or replace a flag (with a newer version) and push it to connected SDKs."""
        with self._lock:
            item = copy.deepcopy(dict(flag))
            item["updatedAt"] = iso(self._tick())
            self._flags[item["key"]] = item
            message = data_sync([item], event_type="patch")
        self._broadcast(message)

    def update_flag(self, key: str, **changes: Any) -> None:
        """Change fields of a served flag (``isEnabled=False``, ``variations=[...]``…)."""
        flag = self.flag(key)
        flag.update(changes)
        self.set_flag(flag)

    def archive_flag(self, key: str) -> None:
        """Delete a flag, as FeatBit does: push it archived."""
        self.update_flag(key, isArchived=True)

    def _broadcast(self, message: Mapping[str, Any]) -> None:
        text = json.dumps(message)
        for connection in list(self._connections):
            # A connection closing now gets the change on reconnect, as a patch.
            with contextlib.suppress(Exception):
                connection.send(text)

    def disconnect_all(self) -> None:
        """Close every websocket (code 1001): SDKs reconnect and ask for a patch."""
        for connection in list(self._connections):
            connection.close(1001, "loopback restart")

    @property
    def connections(self) -> int:
        """How many SDKs are connected to the websocket now."""
        return len(self._connections)

    # -- websocket ------------------------------------------------------------------------
    def redirect_for(self, base: str, path: str) -> str | None:
        """Where :attr:`redirects` sends a request for ``path`` made to ``base`` (one of
        this server's URLs); None: serve it here."""
        for prefix, location in self.redirects.items():
            if path.startswith(prefix) and urljoin(base, location) != urljoin(base, path):
                return location
        return None

    def _handshake(self, connection: ServerConnection, request: Any) -> Any:
        self.requests.append((request.path, dict(request.headers.raw_items())))
        if not self.available:
            return connection.respond(HTTPStatus.SERVICE_UNAVAILABLE, "loopback unavailable\n")
        location = self.redirect_for(self.streaming_url, request.path)
        if location is not None:
            response = connection.respond(self.redirect_status, "moved\n")
            response.headers["Location"] = location
            return response
        if not request.path.startswith("/streaming"):
            return connection.respond(HTTPStatus.NOT_FOUND, "not found\n")
        return None

    def _handle(self, connection: ServerConnection) -> None:
        if (
            connection.request is None
            or connection.request.headers.get("Authorization") != self.env_secret
        ):
            connection.close(4003, "invalid request")
            return
        self._connections.append(connection)
        try:
            for raw in connection:
                message = json.loads(raw)
                with self._lock:
                    self.received.append(message)
                    self._lock.notify_all()
                if message.get("messageType") == "data-sync":
                    connection.send(json.dumps(self._sync_answer(message.get("data") or {})))
        except Exception:
            pass
        finally:
            if connection in self._connections:
                self._connections.remove(connection)

    def _sync_answer(self, data: Mapping[str, Any]) -> dict[str, Any]:
        since = int(data.get("timestamp") or 0)
        with self._lock:
            if since <= 0:
                return data_sync(self._flags.values(), self._segments.values())
            return data_sync(
                [f for f in self._flags.values() if _ms(f["updatedAt"]) > since],
                [s for s in self._segments.values() if _ms(s["updatedAt"]) > since],
                event_type="patch",
            )

    # -- insights ------------------------------------------------------------------------
    def _record(self, items: list[dict[str, Any]]) -> None:
        with self._lock:
            self.insights.extend(items)
            self._lock.notify_all()

    def metrics(self, name: str | None = None) -> list[dict[str, Any]]:
        """Every metric received, each with its ``user`` added, optionally by event name."""
        with self._lock:
            return [
                {**metric, "user": item["user"]}
                for item in self.insights
                for metric in item.get("metrics") or ()
                if name is None or metric.get("eventName") == name
            ]

    def evaluations(self, flag: str | None = None) -> list[dict[str, Any]]:
        """Every flag evaluation (exposure) received, each with its ``user``."""
        with self._lock:
            return [
                {**record, "user": item["user"]}
                for item in self.insights
                for record in item.get("variations") or ()
                if flag is None or record.get("featureFlagKey") == flag
            ]

    def wait_for(self, predicate: Callable[[], bool], timeout: float = 10.0) -> bool:
        """Poll ``predicate`` until it is true or ``timeout`` passes; return its last value."""
        deadline = time.monotonic() + timeout
        while True:
            if predicate():
                return True
            left = deadline - time.monotonic()
            if left <= 0:
                return False
            with self._lock:
                self._lock.wait(min(left, 0.02))


def _ms(stamp: str) -> int:
    return int(datetime.fromisoformat(stamp).timestamp() * 1000)


def _handler(server: FeatBitLoopback) -> type[BaseHTTPRequestHandler]:
    class InsightHandler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: Any) -> None:
            return None

        def _answer(
            self, status: HTTPStatus, body: bytes = b"{}", location: str | None = None
        ) -> None:
            self.send_response(status)
            if location is not None:
                self.send_header("Location", location)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            server.requests.append((self.path, dict(self.headers)))
            location = server.redirect_for(server.event_url, self.path)
            if not server.available:
                self._answer(HTTPStatus.SERVICE_UNAVAILABLE)
            elif location is not None:
                self._answer(server.redirect_status, location=location)
            elif urlsplit(self.path).path != INSIGHT_PATH:
                self._answer(HTTPStatus.NOT_FOUND)
            elif self.headers.get("Authorization") != server.env_secret:
                self._answer(HTTPStatus.UNAUTHORIZED)
            else:
                server._record(json.loads(body))
                self._answer(HTTPStatus.OK)

        def do_GET(self) -> None:
            # FeatBit's polling endpoint: the same snapshot the websocket sends.
            server.requests.append((self.path, dict(self.headers)))
            if self.path.startswith("/api/public/sdk/server/latest-all"):
                self._answer(HTTPStatus.OK, json.dumps(server.bootstrap()).encode())
            else:
                self._answer(HTTPStatus.NOT_FOUND)

    return InsightHandler
