"""A flags file server on 127.0.0.1 that tests steer: it can fail, stall, drop the
connection, and serve any bytes (a bad file, an unsigned one) under any path.

It answers conditional requests the way static servers do (a strong ETag of the body,
``If-None-Match`` answered with 304) and records every request, with the
``X-Worker`` header a test may send to tell processes apart.
"""

from __future__ import annotations

import contextlib
import hashlib
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Literal
from urllib.parse import urlsplit

Mode = Literal["ok", "fail", "stall", "drop"]


@dataclass
class Request:
    path: str
    status: int
    worker: str | None
    headers: dict[str, str] = field(default_factory=dict)


class FlagServer:
    """Serves ``files`` (path -> bytes); ``mode`` says how it misbehaves."""

    def __init__(self) -> None:
        self.files: dict[str, bytes] = {}
        self.mode: Mode = "ok"
        self.requests: list[Request] = []
        self.release = threading.Event()  # ends a stall
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def base(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    def url(self, path: str = "/flags.yaml") -> str:
        return self.base + path

    def put(self, path: str, body: bytes | str) -> None:
        with self._lock:
            self.files[path] = body.encode() if isinstance(body, str) else body

    def delete(self, path: str) -> None:
        with self._lock:
            self.files.pop(path, None)

    def statuses(self, path: str = "/flags.yaml") -> list[int]:
        with self._lock:
            return [r.status for r in self.requests if r.path == path]

    def workers(self, path: str = "/flags.yaml") -> list[str | None]:
        with self._lock:
            return [r.worker for r in self.requests if r.path == path]

    def _record(self, request: Request) -> None:
        with self._lock:
            self.requests.append(request)

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: object) -> None:
                return None

            def do_GET(self) -> None:
                headers = dict(self.headers.items())
                self.path = urlsplit(self.path).path
                mode = server.mode
                if mode == "stall":
                    server.release.wait(30)
                if mode == "drop":
                    server._record(Request(self.path, 0, headers.get("X-Worker"), headers))
                    self.close_connection = True
                    self.connection.close()
                    return
                with server._lock:
                    body = server.files.get(self.path)
                if mode == "fail":
                    status, body = 500, b"internal error"
                elif body is None:
                    status, body = 404, b"not found"
                else:
                    etag = '"' + hashlib.sha256(body).hexdigest()[:16] + '"'
                    status = 304 if self.headers.get("If-None-Match") == etag else 200
                server._record(Request(self.path, status, headers.get("X-Worker"), headers))
                self.send_response(status)
                if status in (200, 304):
                    self.send_header("ETag", etag)
                if status == 304:
                    self.end_headers()
                    return
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                with contextlib.suppress(OSError):  # the client gave up (a timeout)
                    self.wfile.write(body)

        return Handler

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self.release.set()
        self._server.shutdown()
        self._server.server_close()


@contextmanager
def flag_server() -> Iterator[FlagServer]:
    server = FlagServer()
    server.start()
    try:
        yield server
    finally:
        server.stop()
