"""A server on 127.0.0.1 that answers HTTP (and websocket handshakes) the way a hostile or
broken server does: redirects elsewhere, drips bytes, sends gzip bombs, garbage frames.

Each connection is answered by the :data:`Script` the test sets, writing raw bytes, so
nothing a well-behaved server library would refuse to send is out of reach. Every
request's head is recorded (:attr:`HostileServer.heads`), so a test can check which
headers reached which server. Drips stop after :data:`DRIP_LIMIT` seconds or when the
client hangs up, so a client that never gives up fails its test instead of hanging it.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import socket
import threading
import time
import zlib
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from loopback import Listener

#: Seconds a drip goes on at most (far beyond any timeout the tests set).
DRIP_LIMIT = 20.0
_WS_GUID = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11"

Script = Callable[[socket.socket, bytes], None]


class HostileServer(Listener):
    """Accepts connections; reads each request's head and hands it to :attr:`script`."""

    thread_name = "hostile-http"

    def __init__(self, script: Script | None = None, *, read_head: bool = True) -> None:
        super().__init__()
        self.script: Script = script or answer(200, b"{}")
        #: False: the script runs as soon as a connection is accepted, with an empty head
        #: (for a client that speaks first in another protocol, such as TLS)
        self.read_head = read_head
        self.heads: list[bytes] = []
        self.start()

    def headers(self) -> list[dict[str, str]]:
        """The headers of every request received, names lower-cased."""
        found = []
        for head in list(self.heads):
            lines = head.decode("latin-1").split("\r\n")[1:]
            pairs = (line.split(":", 1) for line in lines if ":" in line)
            found.append({name.strip().lower(): value.strip() for name, value in pairs})
        return found

    def on_connection(self, connection: socket.socket) -> None:
        threading.Thread(target=self._serve, args=(connection,), daemon=True).start()

    def _serve(self, connection: socket.socket) -> None:
        with connection, contextlib.suppress(OSError):
            connection.settimeout(DRIP_LIMIT)
            head = b""
            while self.read_head and b"\r\n\r\n" not in head and len(head) < 65536:
                chunk = connection.recv(4096)
                if not chunk:
                    return
                head += chunk
            self.heads.append(head)
            self.script(connection, head)


@contextmanager
def hostile_server(
    script: Script | None = None, *, read_head: bool = True
) -> Iterator[HostileServer]:
    server = HostileServer(script, read_head=read_head)
    try:
        yield server
    finally:
        server.close()


def _response(status: int, body: bytes, headers: dict[str, str]) -> bytes:
    lines = [f"HTTP/1.1 {status} Whatever", f"Content-Length: {len(body)}", "Connection: close"]
    lines += [f"{name}: {value}" for name, value in headers.items()]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body


def answer(status: int, body: bytes, **headers: str) -> Script:
    """Answer every request with ``status``, ``body`` and ``headers`` (``_`` is ``-``)."""
    named = {name.replace("_", "-"): value for name, value in headers.items()}

    def script(connection: socket.socket, head: bytes) -> None:
        connection.sendall(_response(status, body, named))

    return script


def redirect(location: str, status: int = 302) -> Script:
    """Answer every request with a redirect to ``location``."""
    return answer(status, b"", Location=location)


def gzip_bomb(size: int) -> Script:
    """A 200 whose gzip body inflates to ``size`` zero bytes (compressed a MiB at a time,
    so building it costs the test little memory)."""
    return answer(200, gzip_zeros(size), Content_Encoding="gzip")


def gzip_zeros(size: int) -> bytes:
    """``size`` zero bytes, gzip-compressed."""
    squeeze = zlib.compressobj(9, zlib.DEFLATED, zlib.MAX_WBITS | 16)
    block = bytes(2**20)
    parts = [squeeze.compress(block) for _ in range(size // len(block))]
    return b"".join([*parts, squeeze.compress(bytes(size % len(block))), squeeze.flush()])


def _drip(connection: socket.socket, data: Iterator[bytes]) -> None:
    stop = time.monotonic() + DRIP_LIMIT
    for piece in data:
        if time.monotonic() > stop:
            return
        connection.sendall(piece)
        time.sleep(0.02)


def _forever(piece: bytes) -> Iterator[bytes]:
    while True:
        yield piece


def drip_body() -> Script:
    """Send a 200's head at once, then a body of spaces one byte at a time."""

    def script(connection: socket.socket, head: bytes) -> None:
        connection.sendall(
            b"HTTP/1.1 200 OK\r\nContent-Length: 100000000\r\nContent-Type: application/json"
            b"\r\n\r\n"
        )
        _drip(connection, _forever(b" "))

    return script


def drip_head() -> Script:
    """Send the status line, then one header's value one byte at a time."""

    def script(connection: socket.socket, head: bytes) -> None:
        connection.sendall(b"HTTP/1.1 200 OK\r\nX-Drip: ")
        _drip(connection, _forever(b"a"))

    return script


def drip_tls_handshake() -> Script:
    """For a TLS client (``read_head=False``): a handshake record's header announcing
    16 KiB, then its bytes one at a time. The client waits for the whole record before
    it can check any of it, each byte well within its per-read timeout."""

    def script(connection: socket.socket, head: bytes) -> None:
        connection.sendall(bytes([0x16, 0x03, 0x03, 0x40, 0x00]))
        _drip(connection, _forever(b"\x00"))

    return script


# -- websockets ------------------------------------------------------------------------


def _accept_websocket(connection: socket.socket, head: bytes) -> None:
    key = b""
    for line in head.split(b"\r\n"):
        if line.lower().startswith(b"sec-websocket-key:"):
            key = line.split(b":", 1)[1].strip()
    accept = base64.b64encode(hashlib.sha1(key + _WS_GUID).digest())
    connection.sendall(
        b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
        b"Sec-WebSocket-Accept: " + accept + b"\r\n\r\n"
    )


def websocket(then: Callable[[socket.socket], None]) -> Script:
    """Accept the websocket handshake, then run ``then`` on the connection."""

    def script(connection: socket.socket, head: bytes) -> None:
        _accept_websocket(connection, head)
        then(connection)

    return script


def silent(connection: socket.socket) -> None:
    """Never send a frame (until the client hangs up)."""
    connection.settimeout(DRIP_LIMIT)
    with contextlib.suppress(OSError):
        connection.recv(65536)
        connection.recv(65536)


def message(data: bytes) -> Callable[[socket.socket], None]:
    """Send ``data`` as one text frame, then wait for the client to hang up."""
    size = len(data)
    if size < 126:
        length = bytes([size])
    elif size < 65536:
        length = bytes([126]) + size.to_bytes(2, "big")
    else:
        length = bytes([127]) + size.to_bytes(8, "big")

    def then(connection: socket.socket) -> None:
        connection.sendall(bytes([0x81]) + length + data)
        silent(connection)

    return then


def huge_frame(connection: socket.socket) -> None:
    """Announce a text frame of 2**40 bytes, then send zeros as fast as the client reads."""
    connection.sendall(bytes([0x81, 127]) + (2**40).to_bytes(8, "big"))
    chunk = b"0" * 65536
    stop = time.monotonic() + DRIP_LIMIT
    while time.monotonic() < stop:
        connection.sendall(chunk)


def endless_fragments(connection: socket.socket) -> None:
    """A text message in small fragments that never ends (no FIN bit), as fast as read."""
    connection.sendall(bytes([0x01, 126]) + (4096).to_bytes(2, "big") + b"0" * 4096)
    piece = bytes([0x00, 126]) + (4096).to_bytes(2, "big") + b"0" * 4096
    stop = time.monotonic() + DRIP_LIMIT
    while time.monotonic() < stop:
        connection.sendall(piece)


def pings(connection: socket.socket) -> None:
    """Ping frames forever, a few a second, and never a data frame."""
    _drip(connection, _forever(bytes([0x89, 4]) + b"ping"))


def garbage(connection: socket.socket) -> None:
    """A text frame that is not JSON."""
    connection.sendall(bytes([0x81, 9]) + b"not json!")
    silent(connection)
