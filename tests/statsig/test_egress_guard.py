"""The egress guard: a proxy on 127.0.0.1 that reaches the configured hosts and no other.

Driven by the standard library's own proxy support (``urllib``'s proxy handler, and
``http.client`` tunnelling through ``CONNECT``), against real servers on 127.0.0.1.
"""

from __future__ import annotations

import http.client
import logging
import socket
import ssl
import threading
import urllib.error
import urllib.request
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from tls_relays import ConnectProxy, TlsTerminator, self_signed  # tests/support

from flagport_statsig import egress
from flagport_statsig.egress import EgressGuard, origin


class _Quiet(BaseHTTPRequestHandler):
    def answer(self, body: bytes) -> None:
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        pass


class _Echo(_Quiet):
    """Answers with the request line and the Connection header it received."""

    def do_GET(self) -> None:
        self.answer(f"{self.requestline}|{self.headers.get('Connection')}".encode())


@pytest.fixture
def echo() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Echo)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def _through(guard: EgressGuard, url: str) -> tuple[int, str]:
    proxy = urllib.request.ProxyHandler({"http": f"http://127.0.0.1:{guard.port}"})
    try:
        with urllib.request.build_opener(proxy).open(url, timeout=10) as answer:
            return answer.status, answer.read().decode()
    except urllib.error.HTTPError as refused:
        return refused.code, refused.read().decode()


def test_origin_fills_in_the_scheme_s_port() -> None:
    assert origin("https://Flags.Example.com/v1") == ("flags.example.com", 443)
    assert origin("http://10.0.0.5/v1") == ("10.0.0.5", 80)
    assert origin("http://[::1]:8080/v1") == ("::1", 8080)


def test_a_configured_host_is_reached_one_request_per_connection(echo: str) -> None:
    guard = EgressGuard([f"{echo}/v2/download_config_specs"])
    try:
        status, body = _through(guard, f"{echo}/v2/download_config_specs/x.json?a=1")
    finally:
        guard.close()
    assert status == 200
    # The server sees its own path (not the proxy's absolute form), and closes after.
    assert body == "GET /v2/download_config_specs/x.json?a=1 HTTP/1.1|close"


def test_another_host_is_refused_and_logged_without_its_path(
    echo: str, caplog: pytest.LogCaptureFixture
) -> None:
    guard = EgressGuard([f"{echo}/v1/log_event"])
    caplog.set_level(logging.DEBUG, "flagport.statsig")
    try:
        # A name that resolves nowhere: a refusal comes before any lookup, or it would fail.
        status, body = _through(guard, "http://statsig.invalid/v2/dcs/secret-in-a-path.json")
        again, _ = _through(guard, "http://statsig.invalid/v1/sdk_exception")
    finally:
        guard.close()
    assert (status, again) == (403, 403)
    assert "not a host of the configured URLs" in body
    kept = [r for r in caplog.records if "kept the Statsig SDK" in r.getMessage()]
    assert [r.levelno for r in kept] == [logging.INFO, logging.DEBUG]  # once per host
    assert "statsig.invalid:80" in kept[0].getMessage()
    assert "secret-in-a-path" not in caplog.text


def test_a_tunnel_is_opened_to_a_configured_host_only(tmp_path: Path, echo: str) -> None:
    cert, key = self_signed(tmp_path)
    with TlsTerminator(cert, key, int(echo.rsplit(":", 1)[1])) as tls:
        allowed = f"https://127.0.0.1:{tls.port}/v1/get_id_lists"
        guard = EgressGuard([allowed])
        context = ssl.create_default_context(cafile=str(cert))
        try:
            conn = http.client.HTTPSConnection("127.0.0.1", guard.port, context=context)
            conn.set_tunnel("127.0.0.1", tls.port)
            conn.request("GET", "/v1/get_id_lists")
            answer = conn.getresponse()
            assert (answer.status, answer.read()) == (200, b"GET /v1/get_id_lists HTTP/1.1|None")
            conn.close()
            refused = http.client.HTTPSConnection("127.0.0.1", guard.port, context=context)
            refused.set_tunnel("statsigapi.net", 443)
            with pytest.raises(OSError, match="403"):
                refused.request("POST", "/v1/sdk_exception")
        finally:
            guard.close()


def test_an_unreachable_configured_host_is_a_bad_gateway_saying_why() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        closed = f"http://127.0.0.1:{probe.getsockname()[1]}"
    guard = EgressGuard([closed])
    try:
        status, body = _through(guard, f"{closed}/v1/log_event")
    finally:
        guard.close()
    assert status == 502
    assert "unreachable" in body


def test_a_closed_guard_accepts_nothing(echo: str) -> None:
    guard = EgressGuard([echo])
    guard.close()
    with pytest.raises(OSError):
        socket.create_connection(("127.0.0.1", guard.port), timeout=2).close()


class _ForwardProxy(_Quiet):
    """A plain HTTP proxy: fetches the absolute URL it is asked for, noting the request."""

    seen: list[tuple[str, str | None]] = []

    def do_GET(self) -> None:
        self.seen.append((self.requestline, self.headers.get("Proxy-Authorization")))
        direct = urllib.request.build_opener(urllib.request.ProxyHandler({}))
        with direct.open(self.path, timeout=10) as answer:
            self.answer(answer.read())


def test_the_environment_s_proxy_is_used_as_the_sdk_would(
    echo: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Given a proxy of its own, the SDK no longer reads HTTP(S)_PROXY: the guard does."""
    corporate = ThreadingHTTPServer(("127.0.0.1", 0), _ForwardProxy)
    threading.Thread(target=corporate.serve_forever, daemon=True).start()
    guard = EgressGuard([f"{echo}/v1/log_event"])
    monkeypatch.setenv("HTTP_PROXY", f"http://user:pw@127.0.0.1:{corporate.server_address[1]}")
    monkeypatch.delenv("NO_PROXY", raising=False)
    monkeypatch.delenv("no_proxy", raising=False)
    try:
        status, body = _through(guard, f"{echo}/v1/log_event")
        monkeypatch.setenv("NO_PROXY", "127.0.0.1")
        direct = _through(guard, f"{echo}/v1/log_event")
    finally:
        guard.close()
        corporate.shutdown()
        corporate.server_close()
    assert (status, body) == (200, "GET /v1/log_event HTTP/1.1|close")
    assert direct == (200, "GET /v1/log_event HTTP/1.1|close")
    # Asked once (NO_PROXY then bypassed it), in the absolute form, with its credentials.
    assert _ForwardProxy.seen == [(f"GET {echo}/v1/log_event HTTP/1.1", "Basic dXNlcjpwdw==")]


def test_a_tunnel_goes_through_the_environment_s_proxy(
    tmp_path: Path, echo: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    cert, key = self_signed(tmp_path)
    with TlsTerminator(cert, key, int(echo.rsplit(":", 1)[1])) as tls, ConnectProxy() as proxy:
        monkeypatch.setenv("HTTPS_PROXY", f"http://127.0.0.1:{proxy.port}")
        monkeypatch.delenv("NO_PROXY", raising=False)
        monkeypatch.delenv("no_proxy", raising=False)
        guard = EgressGuard([f"https://127.0.0.1:{tls.port}"])
        try:
            conn = http.client.HTTPSConnection(
                "127.0.0.1", guard.port, context=ssl.create_default_context(cafile=str(cert))
            )
            conn.set_tunnel("127.0.0.1", tls.port)
            conn.request("GET", "/v1/get_id_lists")
            assert conn.getresponse().status == 200
            conn.close()
        finally:
            guard.close()
        assert [line.split(b" ")[:2] for line in proxy.requests] == [
            [b"CONNECT", f"127.0.0.1:{tls.port}".encode()]
        ]


def test_a_connection_that_sends_nothing_is_closed(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(egress, "HEAD_TIMEOUT_S", 0.2)
    guard = EgressGuard([])
    try:
        with socket.create_connection(("127.0.0.1", guard.port), timeout=5) as silent:
            assert silent.recv(1) == b""  # closed by the guard, not left waiting
    finally:
        guard.close()
