"""The sockets a ``--live`` download opens, so that the caller can hang them up at the
deadline and no thread of ours is left reading from a server it gave up on, nor waiting
for a name lookup.

A socket timeout bounds each read, not a download: a server dripping a header byte per
read holds ``http.client`` (or websocket-client's handshake) for as long as it likes.
The download runs in a thread the caller stops waiting for at the deadline; shutting its
connections down from the caller then ends whatever read the thread is blocked in, and
every later one, at once.

Each socket is watched from the moment it is connected, before any byte is read from
it (a proxy's answer to ``CONNECT``, the TLS handshake), through a duplicate of its
descriptor: the connection, not the Python object (which TLS wrapping replaces), is what
is shut down.

A name lookup (``getaddrinfo``) has no timeout and cannot be interrupted: a DNS server
that never answers holds the thread that asked for as long as the system resolver's own
retries last. Each lookup runs on a daemon thread of its own, which the download waits
for only until it is hung up (:meth:`Sockets.resolve`).
"""

from __future__ import annotations

import contextlib
import http.client
import ipaddress
import socket
import threading
import urllib.request
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

T = TypeVar("T")

__all__ = ["Sockets", "watched_handlers", "watching", "websocket_connection"]


class Sockets:
    """The connections of one download: :meth:`watch` on the download's thread,
    :meth:`hang_up` from the caller at the deadline, :meth:`release` once it is over."""

    def __init__(self) -> None:
        self._lock = threading.Condition()
        self._held: list[socket.socket] = []
        self._looking_up: list[str] = []
        self._hung_up = False

    def watch(self, sock: socket.socket | None) -> None:
        """Remember ``sock``'s connection (hung up at once if the deadline has passed)."""
        if sock is None:
            return
        try:  # a TLS socket cannot dup() itself; its descriptor is the connection's
            held = socket.fromfd(sock.fileno(), sock.family, sock.type, sock.proto)
        except OSError:  # already closed: nothing left to hang up
            return
        with self._lock:
            if not self._hung_up:
                self._held.append(held)
                return
        _shut(held)

    def hang_up(self) -> list[str]:
        """Shut every connection down: a read blocked in another thread returns, and so
        does a wait for a name lookup.

        :returns: the hosts whose lookup was still under way.
        """
        with self._lock:
            self._hung_up = True
            held, self._held = self._held, []
            looking_up = list(self._looking_up)
            self._lock.notify_all()
        for sock in held:
            _shut(sock)
        return looking_up

    def resolve(self, host: str, lookup: Callable[[], T]) -> T:
        """``lookup()``, a name lookup of ``host``, run on a daemon thread and waited for
        until it ends or the download is hung up (the thread is then left to end when
        the resolver gives up).

        An IP address written out is not looked up: ``lookup()`` runs here, at once.

        :raises OSError: hung up first.
        """
        if _numeric(host):  # no name server is asked: nothing can stall
            return lookup()
        outcome: list[tuple[bool, Any]] = []

        def run() -> None:
            try:
                found: tuple[bool, Any] = (True, lookup())
            except BaseException as exc:  # handed to the waiting thread, raised there
                found = (False, exc)
            with self._lock:
                outcome.append(found)
                self._lock.notify_all()

        with self._lock:
            if self._hung_up:
                raise ConnectionAbortedError(f"the lookup of {host} was given up")
            self._looking_up.append(host)
        threading.Thread(target=run, name="flagport-live-resolve", daemon=True).start()
        with self._lock:
            try:
                while not outcome and not self._hung_up:
                    self._lock.wait()
            finally:
                self._looking_up.remove(host)
            if not outcome:
                raise ConnectionAbortedError(f"the lookup of {host} was given up")
        done, value = outcome[0]
        if not done:
            raise value
        result: T = value
        return result

    def create_connection(
        self, address: tuple[str, int], timeout: Any, source_address: Any = None
    ) -> socket.socket:
        """``socket.create_connection``, its name lookup through :meth:`resolve`."""
        host, port = address
        found: Sequence[Any] = self.resolve(
            host, lambda: socket.getaddrinfo(host, port, 0, socket.SOCK_STREAM)
        )
        error: OSError | None = None
        for *_, sockaddr in found:
            try:  # a numeric address: no second lookup
                return socket.create_connection(sockaddr[:2], timeout, source_address)
            except OSError as exc:
                error = exc
        raise error or OSError(f"no address found for {host}")

    def release(self) -> None:
        """Forget the connections (the download is over; it closes its own)."""
        with self._lock:
            held, self._held = self._held, []
        for sock in held:
            sock.close()


def _numeric(host: str) -> bool:
    """Whether ``host`` is an IP address written out (``127.0.0.1``, ``::1``)."""
    try:
        ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return False
    return True


def _shut(sock: socket.socket) -> None:
    with contextlib.suppress(OSError):
        sock.shutdown(socket.SHUT_RDWR)
    sock.close()


def watching(sockets: Sockets) -> Any:
    """A ``sock`` attribute handing every socket assigned to it to ``sockets``: both
    ``http.client`` and websocket-client assign ``sock`` as they connect (before any
    TLS handshake for the first, after it for the second) and hand it out nowhere else."""

    def get(connection: Any) -> Any:
        return connection.__dict__.get("_watched_sock")

    def assign(connection: Any, sock: Any) -> None:
        connection.__dict__["_watched_sock"] = sock
        sockets.watch(sock)

    return property(get, assign)


def _watching(
    base: type[http.client.HTTPConnection], sockets: Sockets
) -> Callable[..., http.client.HTTPConnection]:
    """``base`` whose every socket (the proxy's or the server's) is watched, its name
    looked up through :meth:`Sockets.resolve`."""

    def __init__(self: http.client.HTTPConnection, *args: Any, **kwargs: Any) -> None:
        base.__init__(self, *args, **kwargs)
        # http.client's own hook for opening the socket (an attribute set in __init__).
        self._create_connection = sockets.create_connection  # type: ignore[attr-defined]

    namespace = {"sock": watching(sockets), "__init__": __init__}
    return type(f"Watched{base.__name__}", (base,), namespace)


def watched_handlers(sockets: Sockets) -> list[urllib.request.BaseHandler]:
    """urllib's HTTP and HTTPS handlers (which an opener then uses instead of its
    defaults), opening connections whose sockets ``sockets`` watches."""
    plain = _watching(http.client.HTTPConnection, sockets)
    secure = _watching(http.client.HTTPSConnection, sockets)

    class HTTP(urllib.request.HTTPHandler):
        def http_open(self, req: urllib.request.Request) -> http.client.HTTPResponse:
            return self.do_open(plain, req)

    class HTTPS(urllib.request.HTTPSHandler):
        def https_open(self, req: urllib.request.Request) -> http.client.HTTPResponse:
            return self.do_open(secure, req)

    return [HTTP(), HTTPS()]


def websocket_connection(url: str, timeout: float, sockets: Sockets) -> socket.socket:
    """The connection websocket-client opens for ``url``, watched by ``sockets`` as soon as
    it is connected, for ``create_connection(url, socket=...)``.

    The library reads a proxy's answer to ``CONNECT`` line by line with only a per-read
    timeout, then does the TLS handshake, and hands the socket out only after both: a
    proxy dripping its answer would hold the download's thread for as long as it likes.
    So the connection is opened here with the library's own steps (the environment's
    proxy and ``no_proxy``, its certificate checks and SNI: what ``create_connection``
    does without ``socket=``), watched before the first of them reads.
    """
    from websocket import WebSocketAddressException, _http, _url

    hostname, port, _, secure = _url.parse_url(url)
    # None given: the library takes the environment's (https_proxy, no_proxy), as for the SDK.
    proxy = _http.proxy_info()  # type: ignore[no-untyped-call]
    # The host the library looks up: the proxy's, if it goes through one.
    looked_up = _url.get_proxy_info(
        hostname, secure, proxy.proxy_host, proxy.proxy_port, proxy.auth, proxy.no_proxy
    )[0]
    addresses, tunnel, auth = sockets.resolve(
        looked_up or hostname,
        lambda: _http._get_addrinfo_list(hostname, port, secure, proxy),
    )
    if not addresses:
        raise WebSocketAddressException(f"host not found: {hostname}:{port}")
    sock: socket.socket = _http._open_socket(addresses, [], timeout)  # type: ignore[no-untyped-call]
    sockets.watch(sock)
    try:
        if tunnel:
            sock = _http._tunnel(sock, hostname, port, auth)
        if secure:
            sock = _http._ssl_socket(sock, {}, hostname)
    except BaseException:
        sock.close()
        raise
    return sock
