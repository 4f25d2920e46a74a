"""TLS and proxies on 127.0.0.1 for tests: a self-signed certificate, an HTTP proxy that
answers ``CONNECT``, and a TLS terminator in front of a plain server. The relays copy
bytes both ways until either side closes; every wait is a hang guard."""

from __future__ import annotations

import contextlib
import datetime
import ipaddress
import select
import socket
import ssl
import threading
from pathlib import Path
from typing import Self

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from loopback import Listener  # tests/support

HANG_GUARD = 30.0  # seconds; far beyond what a relay needs on a loaded machine


def self_signed(directory: Path) -> tuple[Path, Path]:
    """A certificate for 127.0.0.1 signed by its own key: (certificate, key) PEM files."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "flagport test")])
    now = datetime.datetime.now(datetime.UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_file, key_file = directory / "cert.pem", directory / "key.pem"
    cert_file.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_file, key_file


def _relay(one: socket.socket, other: socket.socket) -> None:
    """Copy both ways on one thread (an SSL socket must not be read and written by two
    threads at once) until either side closes, then close both."""
    try:
        while True:
            ready, _, _ = select.select([one, other], [], [], HANG_GUARD)
            if not ready:
                return
            for source in ready:
                target = other if source is one else one
                data = source.recv(65536)
                if not data:
                    return
                target.sendall(data)
                while isinstance(source, ssl.SSLSocket) and source.pending():
                    target.sendall(source.recv(65536))
    except OSError:
        return
    finally:
        for sock in (one, other):
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
            sock.close()


class _Relay(Listener):
    def on_connection(self, connection: socket.socket) -> None:
        connection.settimeout(HANG_GUARD)
        threading.Thread(target=self._serve, args=(connection,), daemon=True).start()

    def _serve(self, connection: socket.socket) -> None:
        raise NotImplementedError

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class ConnectProxy(_Relay):
    """An HTTP proxy that tunnels every ``CONNECT``; :attr:`requests` holds their first
    lines."""

    thread_name = "connect-proxy"

    def __init__(self) -> None:
        super().__init__()
        self.requests: list[bytes] = []
        self.start()

    def _serve(self, connection: socket.socket) -> None:
        head = b""
        with contextlib.suppress(OSError):
            while b"\r\n\r\n" not in head:
                chunk = connection.recv(4096)
                if not chunk:
                    break
                head += chunk
        line = head.split(b"\r\n", 1)[0]
        self.requests.append(line)
        try:
            host, port = line.split(b" ")[1].rsplit(b":", 1)
            upstream = socket.create_connection((host.decode(), int(port)), HANG_GUARD)
            connection.sendall(b"HTTP/1.1 200 Connection established\r\n\r\n")
        except (OSError, ValueError, IndexError):
            connection.close()
            return
        _relay(connection, upstream)


class TlsTerminator(_Relay):
    """Speaks TLS with ``cert_file``'s certificate and relays the plain bytes to
    ``127.0.0.1:port`` (a handshake the client refuses ends the connection)."""

    thread_name = "tls-terminator"

    def __init__(self, cert_file: Path, key_file: Path, port: int) -> None:
        super().__init__()
        self._context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        self._context.load_cert_chain(cert_file, key_file)
        self._target = port
        self.start()

    def _serve(self, connection: socket.socket) -> None:
        try:
            tls = self._context.wrap_socket(connection, server_side=True)
            upstream = socket.create_connection(("127.0.0.1", self._target), HANG_GUARD)
        except OSError:  # the client refused the certificate
            connection.close()
            return
        _relay(tls, upstream)
