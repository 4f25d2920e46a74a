"""What the URL fetcher does not trust the server with: its time, and other origins.

- :class:`DeadlineBackend` makes every socket operation of an exchange (connect, TLS,
  each read and write) wait no longer than what is left of the exchange's deadline.
  httpx's timeouts are per operation, so a server dripping a header byte every second
  would otherwise hold a start-up for hours (h11 reads headers up to 64 KiB).
- :func:`keep_headers_home` drops the headers a user configured (an API key, a token)
  from any request a redirect sends to another origin; httpx drops only
  ``Authorization``.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Mapping
from typing import Any
from urllib.parse import urlsplit

import httpcore

__all__ = ["DeadlineBackend", "keep_headers_home", "origin"]


def origin(url: str) -> tuple[str, str, int | None]:
    """Scheme, host and port (the default port spelt out), as browsers compare them."""
    parts = urlsplit(url)
    port = parts.port or {"http": 80, "https": 443}.get(parts.scheme)
    return parts.scheme, (parts.hostname or "").lower(), port


class DeadlineBackend(httpcore.NetworkBackend):
    """Wraps httpcore's socket backend; :attr:`deadline` (a ``time.monotonic()`` value,
    None: none) caps every operation's timeout by the time left."""

    def __init__(self, backend: httpcore.NetworkBackend) -> None:
        self._backend = backend
        self.deadline: float | None = None

    def cap(self, timeout: float | None) -> float | None:
        if self.deadline is None:
            return timeout
        left = self.deadline - time.monotonic()
        if left <= 0:
            raise httpcore.ReadTimeout("the exchange's deadline has passed")
        return left if timeout is None else min(timeout, left)

    def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore.NetworkStream:
        stream = self._backend.connect_tcp(
            host, port, self.cap(timeout), local_address, socket_options
        )
        return _DeadlineStream(stream, self)

    def connect_unix_socket(
        self, path: str, timeout: float | None = None, socket_options: Iterable[Any] | None = None
    ) -> httpcore.NetworkStream:
        stream = self._backend.connect_unix_socket(path, self.cap(timeout), socket_options)
        return _DeadlineStream(stream, self)

    def sleep(self, seconds: float) -> None:
        self._backend.sleep(seconds)


class _DeadlineStream(httpcore.NetworkStream):
    def __init__(self, stream: httpcore.NetworkStream, backend: DeadlineBackend) -> None:
        self._stream = stream
        self._backend = backend

    def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        return self._stream.read(max_bytes, self._backend.cap(timeout))

    def write(self, buffer: bytes, timeout: float | None = None) -> None:
        self._stream.write(buffer, self._backend.cap(timeout))

    def close(self) -> None:
        self._stream.close()

    def start_tls(
        self, ssl_context: Any, server_hostname: str | None = None, timeout: float | None = None
    ) -> httpcore.NetworkStream:
        tls = self._stream.start_tls(ssl_context, server_hostname, self._backend.cap(timeout))
        return _DeadlineStream(tls, self._backend)

    def get_extra_info(self, info: str) -> Any:
        return self._stream.get_extra_info(info)


def keep_headers_home(home: str, configured: Mapping[str, str]) -> Callable[[Any], None]:
    """An httpx request hook removing ``configured`` headers from requests to any origin
    but ``home``'s (a redirect's), so a key meant for one server reaches no other."""
    names = [name.lower() for name in configured]
    where = origin(home)

    def hook(request: Any) -> None:
        if names and origin(str(request.url)) != where:
            for name in names:
                request.headers.pop(name, None)

    return hook
