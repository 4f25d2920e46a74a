"""``flagport import VENDOR --live`` against servers that misbehave on purpose
(``tests/support/hostile_http.py``): drips, bombs, garbage frames, bodies that echo the
key (redirects: ``test_live_redirects.py``). Every case ends with one ``error:`` line,
exit code 1, no traceback and no key; no time is measured (a client that never gave up
would fail by the server's drip limit, not by a clock here)."""

from __future__ import annotations

import functools
import json
import os
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from hostile_http import (  # tests/support
    HostileServer,
    answer,
    drip_tls_handshake,
    endless_fragments,
    garbage,
    gzip_bomb,
    hostile_server,
    huge_frame,
    pings,
    silent,
    websocket,
)
from hostile_http import drip_body as drip_body_script
from hostile_http import drip_head as drip_head_script
from live_cli import (  # tests/support
    HTTP_VENDORS,
    SECRET,
    SHORT,
    one_error_line,
    run_live,
)

from flagport.cli import cli


@pytest.fixture(autouse=True)
def _isolated(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    for name in [n for n in os.environ if n.startswith("FLAGPORT_")]:
        monkeypatch.delenv(name)


@pytest.fixture
def server() -> Iterator[HostileServer]:
    with hostile_server() as running:
        yield running


# -- slow and large --------------------------------------------------------------------


@pytest.mark.parametrize("vendor", HTTP_VENDORS)
@pytest.mark.parametrize("drip", [drip_body_script, drip_head_script], ids=["body", "head"])
def test_a_dripping_server_is_given_up_on_at_the_timeout(
    vendor: str, drip: Any, server: HostileServer, tmp_path: Path
) -> None:
    server.script = drip()
    line = one_error_line(run_live(vendor, server, tmp_path, SHORT))
    assert "did not send the payload within 0.3s" in line
    assert "timeout" in line


def _download_threads_end(wait: float = 5.0) -> bool:
    """Whether every download thread has ended, polled for up to ``wait`` seconds: a
    bound far below the server's drip limit, not a measure of speed."""
    stop = time.monotonic() + wait
    while any(t.name == "flagport-live-download" for t in threading.enumerate()):
        if time.monotonic() > stop:
            return False
        time.sleep(0.02)
    return True


DRIPS = [
    (vendor, drip) for vendor in HTTP_VENDORS for drip in (drip_body_script, drip_head_script)
] + [("featbit", functools.partial(websocket, then)) for then in (silent, pings, endless_fragments)]


@pytest.mark.parametrize(
    ("vendor", "drip"),
    DRIPS,
    ids=[f"{vendor}-{name}" for vendor in HTTP_VENDORS for name in ("body", "head")]
    + ["featbit-silent", "featbit-pings", "featbit-endless-fragments"],
)
def test_no_download_thread_is_left_reading_after_the_timeout(
    vendor: str, drip: Any, server: HostileServer, tmp_path: Path
) -> None:
    assert _download_threads_end()  # none left by an earlier test
    server.script = drip()
    line = one_error_line(run_live(vendor, server, tmp_path, SHORT))
    assert "did not send the payload within 0.3s" in line
    assert _download_threads_end()


@pytest.mark.parametrize("vendor", [*HTTP_VENDORS, "featbit"])
def test_a_server_dripping_the_tls_handshake_is_hung_up_on_at_the_timeout(
    vendor: str, tmp_path: Path
) -> None:
    # https:// and wss://: the handshake, before any HTTP or websocket byte, is bounded by
    # the deadline too, and the download's thread does not go on reading it.
    assert _download_threads_end()
    with hostile_server(drip_tls_handshake(), read_head=False) as server:
        line = one_error_line(run_live(vendor, server, tmp_path, SHORT, tls=True))
        assert "did not send the payload within 0.3s" in line
        assert _download_threads_end()


@pytest.mark.parametrize("vendor", [*HTTP_VENDORS, "featbit"])
def test_a_proxy_dripping_its_connect_answer_is_hung_up_on_at_the_timeout(
    vendor: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The environment's proxy, as the vendors' SDKs use it: its CONNECT answer comes
    # before the TLS handshake, read a line at a time with only a per-read timeout.
    assert _download_threads_end()
    for name in ("no_proxy", "NO_PROXY", "HTTPS_PROXY"):
        monkeypatch.delenv(name, raising=False)
    with hostile_server(drip_head_script()) as proxy, hostile_server() as server:
        monkeypatch.setenv("https_proxy", proxy.url)
        line = one_error_line(run_live(vendor, server, tmp_path, SHORT, tls=True))
        assert "did not send the payload within 0.3s" in line
        assert _download_threads_end()
        assert proxy.heads
        assert all(head.startswith(b"CONNECT ") for head in proxy.heads)
        assert server.heads == []


@pytest.mark.parametrize(
    "then", [silent, pings, endless_fragments], ids=["silent", "pings", "endless-fragments"]
)
def test_a_featbit_server_that_never_completes_a_message_is_given_up_on(
    then: Any, server: HostileServer, tmp_path: Path
) -> None:
    server.script = websocket(then)
    line = one_error_line(run_live("featbit", server, tmp_path, SHORT))
    assert "did not send the payload within 0.3s" in line
    assert "connect_timeout" in line


def test_a_featbit_frame_announcing_a_terabyte_is_refused_at_the_size_limit(
    server: HostileServer, tmp_path: Path
) -> None:
    server.script = websocket(huge_frame)
    # The longest timeout allowed, beyond reading 64 MiB here: the size limit ends it.
    line = one_error_line(run_live("featbit", server, tmp_path))
    assert "sent more than 67108864 bytes" in line


# -- garbage ---------------------------------------------------------------------------


def test_a_featbit_frame_that_is_not_json_is_one_line(
    server: HostileServer, tmp_path: Path
) -> None:
    server.script = websocket(garbage)
    assert "not JSON" in one_error_line(run_live("featbit", server, tmp_path))


HOSTILE_BODIES = {
    "html-500-echoing-the-key": (500, f"<html><h1>bad key {SECRET}</h1></html>".encode()),
    "html-200-echoing-the-key": (200, f"<html>\n<p>key {SECRET} unknown</p>".encode()),
    "json-error-echoing-the-key": (200, json.dumps({"error": f"no key {SECRET}"}).encode()),
    "nested-100k-deep": (200, b"[" * 100_000 + b"]" * 100_000),
    "not-utf-8": (200, b'{"features": {"\xff\xfe": 1}}'),
    "empty": (200, b""),
}


@pytest.mark.parametrize("vendor", HTTP_VENDORS)
@pytest.mark.parametrize("case", sorted(HOSTILE_BODIES))
def test_a_hostile_body_is_one_line_without_the_key(
    vendor: str, case: str, server: HostileServer, tmp_path: Path
) -> None:
    status, body = HOSTILE_BODIES[case]
    server.script = answer(status, body, Content_Type="text/html")
    one_error_line(run_live(vendor, server, tmp_path))


@pytest.mark.parametrize("vendor", HTTP_VENDORS)
def test_a_gzip_bomb_is_never_inflated(vendor: str, server: HostileServer, tmp_path: Path) -> None:
    server.script = gzip_bomb(2**30)  # 1 GiB of zeros in about 1 MiB
    assert "not UTF-8" in one_error_line(run_live(vendor, server, tmp_path))
    assert "gzip" not in server.headers()[0].get("accept-encoding", "")


def test_a_payload_file_nested_100k_deep_is_one_line(tmp_path: Path) -> None:
    deep = tmp_path / "deep.json"
    deep.write_text("[" * 100_000 + "]" * 100_000)
    result = CliRunner().invoke(
        cli, ["import", "growthbook", str(deep), "-o", str(tmp_path / "f.yaml")]
    )
    assert "nested too deeply" in one_error_line(result)
