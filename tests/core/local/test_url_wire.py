"""The URL source's HTTP client on httpx's and httpcore's public APIs only: a private
attribute can vanish in any release. Sent through httpcore's connection pool, it still
verifies TLS the way httpx does by default, still ignores proxies from the environment (as
a client given its own transport does) and still bounds a dripping server by the whole
exchange's deadline."""

from __future__ import annotations

import ast
import re
import socket
import ssl
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from hostile_http import answer, drip_body, drip_head, hostile_server  # tests/support
from loopback import Listener  # tests/support
from tls_relays import self_signed  # tests/support
from url_helpers import flags  # tests/support

from flagport.providers.local.url_fetch import FetchError, HttpFetcher

ROOT = Path(__file__).resolve().parents[3]
SOURCE_ROOTS = [ROOT / "core" / "src", *ROOT.glob("providers/*/src"), *ROOT.glob("contrib/*/src")]
HTTP_LIBRARIES = ("httpx", "httpcore")


# -- public APIs only ------------------------------------------------------------------


def _imports_http_library(tree: ast.Module) -> bool:
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            names = [node.module or ""]
        elif isinstance(node, ast.Call) and ast.unparse(node.func).endswith("require"):
            names = [str(arg.value) for arg in node.args if isinstance(arg, ast.Constant)]
        else:
            continue
        if any(name.split(".")[0] in HTTP_LIBRARIES for name in names):
            return True
    return False


def _private_uses(path: Path) -> Iterator[str]:
    """Where ``path`` reaches into something else's private attribute or module (one of
    its own, on ``self`` or ``cls``, is its business), if it uses httpx or httpcore."""
    text = path.read_text()
    tree = ast.parse(text)
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and re.match(r"(httpx|httpcore)\._", node.module or ""):
            yield f"{path}:{node.lineno}: from {node.module} import ..."
    if not _imports_http_library(tree):
        return
    for node in ast.walk(tree):
        if not isinstance(node, ast.Attribute) or not re.fullmatch(r"_[a-z0-9]\w*", node.attr):
            continue
        owner = node.value
        if isinstance(owner, ast.Name) and owner.id in ("self", "cls"):
            continue
        yield f"{path}:{node.lineno}: {ast.unparse(node)}"


def test_no_source_module_touches_a_private_attribute_of_httpx_or_httpcore() -> None:
    modules = [path for root in SOURCE_ROOTS for path in sorted(root.rglob("*.py"))]
    assert any(path.name == "url_wire.py" for path in modules)  # the check reads the source
    found = [use for path in modules for use in _private_uses(path)]
    # The names the old code reached for, wherever they might come back.
    pattern = re.compile(r"\._(pool|network_backend|transport|mounts)\b")
    found += [
        f"{path}:{number}: {line.strip()}"
        for path in modules
        for number, line in enumerate(path.read_text().splitlines(), 1)
        if pattern.search(line)
    ]
    assert not found, "\n".join(found)


# -- the deadline ----------------------------------------------------------------------


@pytest.mark.parametrize("drip", [drip_head, drip_body], ids=["head", "body"])
def test_a_dripping_server_is_cut_off_at_the_exchange_deadline(drip: object) -> None:
    with hostile_server(drip()) as hostile:  # type: ignore[operator]
        fetcher = HttpFetcher(hostile.url + "/flags.yaml?token=s3cret", {}, 0.3, signed=False)
        try:
            with pytest.raises(FetchError) as caught:
                fetcher.fetch()
        finally:
            fetcher.close()
    message = str(caught.value)
    assert message == (
        f"{hostile.url}/flags.yaml: timed out, the response took longer than the timeout "
        "(0.3s); raise timeout or check the server"
    )


# -- proxies ---------------------------------------------------------------------------


def test_proxies_from_the_environment_are_not_used(monkeypatch: pytest.MonkeyPatch) -> None:
    body = flags(3).encode()
    with hostile_server(answer(200, body)) as direct, hostile_server() as proxy:
        for name in ("HTTP_PROXY", "http_proxy", "ALL_PROXY", "all_proxy"):
            monkeypatch.setenv(name, proxy.url)
        for name in ("NO_PROXY", "no_proxy"):
            monkeypatch.delenv(name, raising=False)
        fetcher = HttpFetcher(direct.url + "/flags.yaml", {}, 5.0, signed=False)
        try:
            fetched = fetcher.fetch()
        finally:
            fetcher.close()
        assert fetched is not None
        assert fetched.body == body
        assert proxy.heads == []


# -- TLS -------------------------------------------------------------------------------


class _TlsServer(Listener):
    """Answers each request over TLS with ``body`` (a handshake the client refuses ends
    the connection)."""

    thread_name = "tls-flags"

    def __init__(self, cert_file: Path, key_file: Path, body: bytes) -> None:
        super().__init__()
        self.url = f"https://127.0.0.1:{self.port}"
        self._context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        self._context.load_cert_chain(cert_file, key_file)
        self._body = body
        self.start()

    def on_connection(self, connection: socket.socket) -> None:
        threading.Thread(target=self._serve, args=(connection,), daemon=True).start()

    def _serve(self, connection: socket.socket) -> None:
        connection.settimeout(10)
        try:
            with self._context.wrap_socket(connection, server_side=True) as tls:
                head = b""
                while b"\r\n\r\n" not in head:
                    chunk = tls.recv(4096)
                    if not chunk:
                        return
                    head += chunk
                answer(200, self._body)(tls, head)
        except OSError:  # the client refused the certificate
            connection.close()


@pytest.fixture
def tls_server(tmp_path: Path) -> Iterator[tuple[_TlsServer, Path]]:
    cert_file, key_file = self_signed(tmp_path)
    server = _TlsServer(cert_file, key_file, flags(4).encode())
    try:
        yield server, cert_file
    finally:
        server.close()


@contextmanager
def _fetcher(server: _TlsServer) -> Iterator[HttpFetcher]:
    fetcher = HttpFetcher(server.url + "/flags.yaml", {}, 5.0, signed=False)
    try:
        yield fetcher
    finally:
        fetcher.close()


def test_a_certificate_no_trusted_authority_signed_is_refused(
    tls_server: tuple[_TlsServer, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    server, _ = tls_server
    monkeypatch.delenv("SSL_CERT_FILE", raising=False)
    monkeypatch.delenv("SSL_CERT_DIR", raising=False)
    with (
        _fetcher(server) as fetcher,
        pytest.raises(FetchError, match=r"ConnectError: .*CERTIFICATE_VERIFY_FAILED"),
    ):
        fetcher.fetch()


def test_the_authorities_in_ssl_cert_file_are_trusted_as_httpx_trusts_them(
    tls_server: tuple[_TlsServer, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    server, cert_file = tls_server
    monkeypatch.setenv("SSL_CERT_FILE", str(cert_file))
    with _fetcher(server) as fetcher:
        fetched = fetcher.fetch()
    assert fetched is not None
    assert fetched.body == flags(4).encode()
