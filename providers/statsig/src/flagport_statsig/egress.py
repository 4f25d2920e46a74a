"""The only way out for a Statsig SDK pointed at custom URLs: a proxy that lets through
the hosts of those URLs and no other.

statsig-python-core reports its own errors (a request that failed or timed out, a
start-up past its ``init_timeout_ms``, specs it could not parse) to Statsig's public
API, ``POST https://statsigapi.net/v1/sdk_exception`` with the server secret in a
header, whatever URLs it was given. The address is fixed in the SDK
(``statsig-rust/src/observability/sdk_errors_observer.rs``; its override,
``STATSIG_SDK_EXCEPTION_URL``, exists only in the SDK's test builds) and no option
turns the reporting off short of ``disable_network``, which stops everything. Every
request the SDK makes goes through its ``proxy_config``, though: pointed at an
:class:`EgressGuard` on 127.0.0.1, a request to a configured host passes through
unchanged (TLS stays end to end, through ``CONNECT``), any other is refused before its
host name is even looked up.
"""

from __future__ import annotations

import base64
import contextlib
import logging
import selectors
import socket
import socketserver
import threading
import urllib.request
from collections.abc import Iterable
from urllib.parse import unquote, urlsplit

__all__ = ["HEAD_TIMEOUT_S", "EgressGuard", "origin"]

logger = logging.getLogger("flagport.statsig")

#: A request head larger than this is not the SDK's: refused.
_MAX_HEAD = 64 * 1024
#: Connecting to a configured host gives up after the SDK's own request timeout.
_CONNECT_TIMEOUT_S = 10.0
#: Seconds a connection has to send its request head.
HEAD_TIMEOUT_S = 10.0
#: Hop-by-hop headers meant for the proxy, not the server.
_PROXY_HEADERS = frozenset(
    {b"connection", b"proxy-connection", b"keep-alive", b"proxy-authorization"}
)


def origin(url: str) -> tuple[str, int]:
    """``(host, port)`` that ``url`` connects to (the scheme's port when none is given)."""
    parts = urlsplit(url)
    return (parts.hostname or "").lower(), parts.port or (443 if parts.scheme == "https" else 80)


class _Server(socketserver.ThreadingTCPServer):
    daemon_threads = True

    def handle_error(self, request: object, client_address: object) -> None:
        # A connection the SDK dropped mid-relay is routine: no traceback on stderr.
        logger.debug("flagport-statsig: egress relay ended", exc_info=True)


class EgressGuard:
    """A forward proxy on 127.0.0.1 that reaches only the hosts of ``urls``.

    Give the SDK ``proxy_config=ProxyConfig(proxy_host="127.0.0.1",
    proxy_port=guard.port)``. A refused request is answered ``403`` and logged (host
    and port only: a path can hold the server secret).
    """

    def __init__(self, urls: Iterable[str]) -> None:
        self.allowed = frozenset(origin(url) for url in urls)
        self._refused: set[str] = set()
        guard = self

        class Handler(socketserver.BaseRequestHandler):
            def handle(self) -> None:
                guard._relay(self.request)

        self._server = _Server(("127.0.0.1", 0), Handler)
        self.port: int = self._server.server_address[1]
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": 0.1},
            name="flagport-statsig-egress",
            daemon=True,
        )
        self._thread.start()

    def close(self) -> None:
        """Stop accepting connections (relays under way end with their connections)."""
        if self._thread.is_alive():
            self._server.shutdown()
        self._server.server_close()

    def forget_after_fork(self) -> None:
        """In a forked child, where the serving thread does not exist: close the
        inherited listening socket only (``shutdown`` would wait for that thread)."""
        self._server.server_close()

    # -- one connection ---------------------------------------------------------------------
    def _relay(self, client: socket.socket) -> None:
        # A connection that never sends its request (not the SDK's) holds no thread for
        # ever.
        client.settimeout(HEAD_TIMEOUT_S)
        head, rest = _read_head(client)
        client.settimeout(None)
        request_line, _, header_block = head.partition(b"\r\n")
        words = request_line.split(b" ")
        if len(words) != 3:
            _answer(client, b"400 Bad Request", b"not an HTTP request")
            return
        method, target, version = words
        connect = method == b"CONNECT"
        if connect:
            host, _, port = target.decode("latin-1").rpartition(":")
            dest = (host.strip("[]").lower(), int(port) if port.isdigit() else 0)
            scheme = "https"
        else:
            url = target.decode("latin-1")
            dest, scheme = origin(url), urlsplit(url).scheme
        if dest not in self.allowed:
            self._refuse(dest)
            _answer(client, b"403 Forbidden", b"not a host of the configured URLs")
            return
        # The proxy of the environment (HTTPS_PROXY, NO_PROXY...), which the SDK would
        # have used itself had it not been given this one.
        via = _environment_proxy(scheme, dest[0])
        if connect:
            first = b"\r\n".join((head, *via[1], b"", b"")) + rest if via else rest
        else:
            if via is None:
                parts = urlsplit(url)
                target = ((parts.path or "/") + (f"?{parts.query}" if parts.query else "")).encode()
            headers = [
                line
                for line in header_block.split(b"\r\n")
                if line and line.split(b":", 1)[0].strip().lower() not in _PROXY_HEADERS
            ]
            # One request per connection: the server closes it after the answer, and
            # so does this relay, so no second request meets a server it was not for.
            lines = (b" ".join((method, target, version)), *headers, b"Connection: close")
            first = b"\r\n".join((*lines, *(via[1] if via else ()), b"", b"")) + rest
        try:
            upstream = socket.create_connection(via[0] if via else dest, _CONNECT_TIMEOUT_S)
        except OSError as exc:
            _answer(client, b"502 Bad Gateway", f"unreachable: {exc}".encode())
            return
        with upstream:
            upstream.settimeout(None)
            if connect and via is None:
                client.sendall(b"HTTP/1.1 200 Connection established\r\n\r\n")
            if first:
                upstream.sendall(first)
            _pipe(client, upstream, close_answer=not connect)

    def _refuse(self, dest: tuple[str, int]) -> None:
        where = f"{dest[0]}:{dest[1]}"
        if where in self._refused:
            logger.debug("flagport-statsig: kept the Statsig SDK from reaching %s", where)
            return
        self._refused.add(where)
        logger.info(
            "flagport-statsig: kept the Statsig SDK from reaching %s, not a host of the "
            "configured URLs (the SDK reports its own errors to Statsig's API; flagport "
            "lets it reach only the servers you configured)",
            where,
        )


def _environment_proxy(scheme: str, host: str) -> tuple[tuple[str, int], tuple[bytes, ...]] | None:
    """The HTTP proxy the environment names for ``scheme`` and ``host`` (None: none, or
    ``NO_PROXY`` lists the host): its address and the header that authenticates."""
    proxy = urllib.request.getproxies().get(scheme)
    if not proxy or urllib.request.proxy_bypass(host):
        return None
    parts = urlsplit(proxy if "://" in proxy else f"http://{proxy}")
    if parts.scheme != "http" or not parts.hostname:
        return None  # a TLS or SOCKS proxy: not spoken here, so none
    auth: tuple[bytes, ...] = ()
    if parts.username is not None:
        user = f"{unquote(parts.username)}:{unquote(parts.password or '')}"
        auth = (b"Proxy-Authorization: Basic " + base64.b64encode(user.encode()),)
    return (parts.hostname, parts.port or 80), auth


def _read_head(client: socket.socket) -> tuple[bytes, bytes]:
    """The request head (up to the blank line) and what arrived after it."""
    data = b""
    while b"\r\n\r\n" not in data and len(data) < _MAX_HEAD:
        chunk = client.recv(65536)
        if not chunk:
            break
        data += chunk
    head, _, rest = data.partition(b"\r\n\r\n")
    return head, rest


def _answer(client: socket.socket, status: bytes, why: bytes) -> None:
    body = b"flagport's egress guard: " + why
    reply = b"HTTP/1.1 %s\r\nContent-Length: %d\r\nConnection: close\r\n\r\n%s"
    with contextlib.suppress(OSError):
        client.sendall(reply % (status, len(body), body))


def _pipe(client: socket.socket, upstream: socket.socket, *, close_answer: bool) -> None:
    """Copy bytes both ways until either side closes.

    :param close_answer: say ``Connection: close`` in the answer's head (the relay
        closes the connection after it, which the client must not reuse).
    """
    peer = {client: upstream, upstream: client}
    with selectors.DefaultSelector() as sel:
        sel.register(client, selectors.EVENT_READ)
        sel.register(upstream, selectors.EVENT_READ)
        while True:
            for key, _ in sel.select():
                sock = key.fileobj
                assert isinstance(sock, socket.socket)
                try:
                    data = sock.recv(65536)
                    if not data:
                        return
                    if close_answer and sock is upstream and b"\r\n" in data:
                        data = data.replace(b"\r\n", b"\r\nConnection: close\r\n", 1)
                        close_answer = False
                    peer[sock].sendall(data)
                except OSError:
                    return
