"""What the URL fetcher does not trust the server with: its time, and other origins.

- :class:`DeadlineTransport` is the httpx transport the fetcher sends through: httpcore's
  public connection pool, built on a :class:`DeadlineBackend` (httpx's own transport takes
  no network backend, and reaching into it would break with any release).
- :class:`DeadlineBackend` makes every socket operation of an exchange (connect, TLS,
  each read and write) wait no longer than what is left of the exchange's deadline.
  httpx's timeouts are per operation, so a server dripping a header byte every second
  would otherwise hold a start-up for hours (h11 reads headers up to 64 KiB).
- :func:`keep_headers_home` drops the headers a user configured (an API key, a token)
  from any request a redirect sends to another server; httpx drops only
  ``Authorization``.
"""

from __future__ import annotations

import contextlib
import socket
import time
import weakref
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from typing import Any

import httpcore
import httpx

from flagport._redirects import same_server

__all__ = ["DeadlineBackend", "DeadlineTransport", "keep_headers_home"]

# httpx's defaults for its own transport (httpx.HTTPTransport), kept so that moving off it
# changes nothing a server sees.
_MAX_CONNECTIONS = 100
_MAX_KEEPALIVE_CONNECTIONS = 20
_KEEPALIVE_EXPIRY = 5.0
# The httpcore errors httpx translates into its own (one name each, in both libraries).
_CORE_ERRORS = (
    httpcore.TimeoutException,
    httpcore.NetworkError,
    httpcore.ProtocolError,
    httpcore.ProxyError,
    httpcore.UnsupportedProtocol,
)


class DeadlineBackend(httpcore.NetworkBackend):
    """Wraps httpcore's socket backend; :attr:`deadline` (a ``time.monotonic()`` value,
    None: none) caps every operation's timeout by the time left, and :meth:`hang_up`
    ends an exchange from another thread."""

    def __init__(self, backend: httpcore.NetworkBackend) -> None:
        self._backend = backend
        self.deadline: float | None = None
        self._sockets: weakref.WeakSet[socket.socket] = weakref.WeakSet()

    def hang_up(self) -> None:
        """End the exchange in flight (from another thread): its next socket operation
        fails, and one blocked now returns at once rather than when its cap (up to the
        whole timeout) runs out, as the connection is shut down."""
        self.deadline = time.monotonic()
        for sock in list(self._sockets):
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)

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
        sock = stream.get_extra_info("socket")
        if sock is not None:
            self._sockets.add(sock)
        return _DeadlineStream(stream, self)

    def connect_unix_socket(
        self, path: str, timeout: float | None = None, socket_options: Iterable[Any] | None = None
    ) -> httpcore.NetworkStream:
        stream = self._backend.connect_unix_socket(path, self.cap(timeout), socket_options)
        return _DeadlineStream(stream, self)

    def sleep(self, seconds: float) -> None:
        self._backend.sleep(seconds)


class DeadlineTransport(httpx.BaseTransport):
    """Sends httpx requests through httpcore's connection pool on a :class:`DeadlineBackend`
    (:attr:`backend`), verifying TLS as httpx does by default (certifi's CAs, or
    ``SSL_CERT_FILE``/``SSL_CERT_DIR``); HTTP/1.1 only, no proxy, as httpx's transport
    given to a client (a client then ignores proxies from the environment)."""

    def __init__(self) -> None:
        self.backend = DeadlineBackend(httpcore.SyncBackend())
        self._connections = httpcore.ConnectionPool(
            ssl_context=httpx.create_ssl_context(),
            max_connections=_MAX_CONNECTIONS,
            max_keepalive_connections=_MAX_KEEPALIVE_CONNECTIONS,
            keepalive_expiry=_KEEPALIVE_EXPIRY,
            http1=True,
            http2=False,
            network_backend=self.backend,
        )

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        if not isinstance(request.stream, httpx.SyncByteStream):  # pragma: no cover
            raise TypeError("DeadlineTransport sends the requests of a synchronous client")
        url = request.url
        sent = httpcore.Request(
            method=request.method,
            url=httpcore.URL(
                scheme=url.raw_scheme, host=url.raw_host, port=url.port, target=url.raw_path
            ),
            headers=request.headers.raw,
            content=request.stream,
            extensions=request.extensions,
        )
        with _as_httpx_errors():
            received = self._connections.handle_request(sent)
        return httpx.Response(
            status_code=received.status,
            headers=received.headers,
            stream=_ResponseBody(received),
            extensions=received.extensions,
        )

    def close(self) -> None:
        self._connections.close()


class _ResponseBody(httpx.SyncByteStream):
    """A response's body as httpcore streams it (read as it arrives, never buffered)."""

    def __init__(self, response: httpcore.Response) -> None:
        self._response = response

    def __iter__(self) -> Iterator[bytes]:
        with _as_httpx_errors():
            yield from self._response.iter_stream()

    def close(self) -> None:
        with _as_httpx_errors():
            self._response.close()


@contextmanager
def _as_httpx_errors() -> Iterator[None]:
    """httpcore's errors raised as httpx's of the same name (what httpx's transport does),
    so callers catch :class:`httpx.HTTPError` and messages name the same error."""
    try:
        yield
    except _CORE_ERRORS as exc:
        for kind in type(exc).__mro__:
            same = getattr(httpx, kind.__name__, None)
            if isinstance(same, type) and issubclass(same, httpx.TransportError):
                raise same(str(exc)) from exc
        raise


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
    """An httpx request hook removing ``configured`` headers from a request a redirect
    sends off ``home``'s server, so a key meant for one server reaches no other. The
    server is the one flagport's other redirects keep to (:func:`~flagport._redirects.
    same_server`): the same origin, or the same host from plain text up to TLS."""
    names = [name.lower() for name in configured]

    def hook(request: Any) -> None:
        if names and not same_server(home, str(request.url)):
            for name in names:
                request.headers.pop(name, None)

    return hook
