"""``flagport import VENDOR --live`` and redirects (``flagport._redirects``): followed
within the server, a relative ``Location`` too, and from plain text up to TLS on the
same host; refused to another server, from TLS down to plain text, and after three in a
row, with one ``error:`` line naming both origins and never the key."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hostile_http import (  # tests/support
    HostileServer,
    Script,
    answer,
    hostile_server,
    message,
    redirect,
    websocket,
)
from live_cli import (  # tests/support
    FEATBIT_PAYLOAD,
    HTTP_VENDORS,
    PAYLOAD,
    one_error_line,
    run_live,
)
from tls_relays import TlsTerminator, self_signed  # tests/support

VENDORS = [*HTTP_VENDORS, "featbit"]
STATSIG_PAYLOAD = PAYLOAD.with_name("statsig_specs.json")


@pytest.fixture(autouse=True)
def _isolated(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    for name in [n for n in os.environ if n.startswith("FLAGPORT_")]:
        monkeypatch.delenv(name)
    for name in ("https_proxy", "HTTPS_PROXY", "http_proxy", "HTTP_PROXY"):
        monkeypatch.delenv(name, raising=False)


@pytest.fixture
def server() -> Iterator[HostileServer]:
    with hostile_server() as running:
        yield running


@pytest.fixture
def tls_front(
    server: HostileServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[TlsTerminator]:
    """TLS in front of ``server`` (the same server, another port), with a certificate
    the download trusts: urllib through ``SSL_CERT_FILE``, websocket-client through
    ``WEBSOCKET_CLIENT_CA_BUNDLE`` (each library's own setting)."""
    certificate, key = self_signed(tmp_path)
    monkeypatch.setenv("SSL_CERT_FILE", str(certificate))
    monkeypatch.setenv("WEBSOCKET_CLIENT_CA_BUNDLE", str(certificate))
    with TlsTerminator(certificate, key, server.port) as front:
        yield front


def _payload(vendor: str) -> tuple[Script, list[str]]:
    """The vendor's example payload as a script, and the flag names it holds."""
    if vendor == "featbit":
        sync = json.loads(FEATBIT_PAYLOAD.read_text())["data"]
        names = [flag["key"] for flag in sync["featureFlags"]]
        return websocket(message(FEATBIT_PAYLOAD.read_bytes())), names
    if vendor == "statsig":
        gates = json.loads(STATSIG_PAYLOAD.read_text())["feature_gates"]
        return answer(200, STATSIG_PAYLOAD.read_bytes()), [n for n in gates if ":" not in n]
    return answer(200, PAYLOAD.read_bytes()), list(json.loads(PAYLOAD.read_text())["features"])


def _moved_to(payload: Script, moved: Script) -> Script:
    """``payload`` for ``GET /moved``, ``moved`` (a redirect) for anything else."""

    def script(connection: Any, head: bytes) -> None:
        (payload if head.startswith(b"GET /moved ") else moved)(connection, head)

    return script


def _paths(server: HostileServer) -> list[bytes]:
    return [head.split(b" ")[1] for head in list(server.heads)]


def _imported(result: Any, tmp_path: Path, names: list[str]) -> None:
    assert result.exit_code == 0, result.output
    text = (tmp_path / "flags.yaml").read_text()
    assert names
    assert all(name in text for name in names)


def _scheme(vendor: str, *, tls: bool = False) -> str:
    return ("wss" if tls else "ws") if vendor == "featbit" else ("https" if tls else "http")


# -- to another server -----------------------------------------------------------------


@pytest.mark.parametrize("vendor", VENDORS)
def test_a_redirect_to_another_server_is_refused_and_the_key_stays_home(
    vendor: str, server: HostileServer, tmp_path: Path
) -> None:
    with hostile_server(answer(200, PAYLOAD.read_bytes())) as elsewhere:
        server.script = redirect(f"{_scheme(vendor)}://127.0.0.1:{elsewhere.port}/v1/features")
        line = one_error_line(run_live(vendor, server, tmp_path))
        assert elsewhere.heads == []  # not a byte of the request, key header or key path
    assert f"127.0.0.1:{server.port} redirected the " in line
    assert f"to another server ({_scheme(vendor)}://127.0.0.1:{elsewhere.port})" in line
    assert "/v1/features" not in line


# -- within the server -----------------------------------------------------------------


@pytest.mark.parametrize("absolute", [True, False], ids=["absolute", "relative"])
@pytest.mark.parametrize("vendor", VENDORS)
def test_a_redirect_within_the_server_is_followed(
    vendor: str, absolute: bool, server: HostileServer, tmp_path: Path
) -> None:
    payload, names = _payload(vendor)
    where = f"{_scheme(vendor)}://127.0.0.1:{server.port}" if absolute else ""
    server.script = _moved_to(payload, redirect(f"{where}/moved", status=301))
    _imported(run_live(vendor, server, tmp_path), tmp_path, names)
    assert _paths(server)[-1] == b"/moved"


@pytest.mark.parametrize("vendor", VENDORS)
def test_a_server_redirecting_to_itself_is_given_up_on_after_three(
    vendor: str, server: HostileServer, tmp_path: Path
) -> None:
    server.script = redirect(f"{_scheme(vendor)}://127.0.0.1:{server.port}/again", status=307)
    line = one_error_line(run_live(vendor, server, tmp_path))
    assert f"127.0.0.1:{server.port} redirected the " in line
    assert "more than 3 times" in line
    assert len(server.heads) == 4  # the request and three redirects followed


# -- TLS -------------------------------------------------------------------------------


@pytest.mark.parametrize("vendor", VENDORS)
def test_a_redirect_up_to_tls_on_the_same_host_is_followed(
    vendor: str, server: HostileServer, tls_front: TlsTerminator, tmp_path: Path
) -> None:
    payload, names = _payload(vendor)
    secure = f"{_scheme(vendor, tls=True)}://127.0.0.1:{tls_front.port}/moved"
    server.script = _moved_to(payload, redirect(secure))
    _imported(run_live(vendor, server, tmp_path), tmp_path, names)
    # The first request in plain text, the second through TLS to the same server.
    paths = _paths(server)
    assert len(paths) == 2
    assert paths[-1] == b"/moved"


@pytest.mark.parametrize("vendor", VENDORS)
def test_a_redirect_down_from_tls_is_refused_even_on_the_same_host(
    vendor: str, server: HostileServer, tls_front: TlsTerminator, tmp_path: Path
) -> None:
    # The same server again, in plain text: the key would travel unencrypted.
    server.script = redirect(f"{_scheme(vendor)}://127.0.0.1:{server.port}/moved")
    line = one_error_line(run_live(vendor, tls_front, tmp_path, tls=True))
    assert len(server.heads) == 1  # the request through TLS only
    assert f"{_scheme(vendor, tls=True)}://127.0.0.1:{tls_front.port} redirected the " in line
    assert f"to {_scheme(vendor)}://127.0.0.1:{server.port}, from TLS to plain text" in line
