"""The local provider's URL source against a server, and a cache, that misbehave on
purpose (``tests/support/hostile_http.py``): redirects to another origin, drips, bombs,
validators that cannot be sent back, a bad file served for ever, a cache replaced by a
pipe, a device or garbage. The application keeps serving its last good definitions (or
defaults, with the reason) and says why once. Nothing is timed: a client that never gave
up would fail by the server's drip limit."""

from __future__ import annotations

import logging
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from flag_server import FlagServer  # tests/support
from hostile_http import (  # tests/support
    Script,
    answer,
    drip_body,
    drip_head,
    gzip_bomb,
    hostile_server,
    redirect,
)
from tls_relays import TlsTerminator, self_signed  # tests/support
from url_helpers import USER, flags, url_stats, version  # tests/support
from url_helpers import local_provider as provider
from url_helpers import url_client as client

from flagport.provider import ProviderStatus

KEY = "k3y-7c0ffee-url-header"
Waiter = Callable[..., bool]


# -- the server ------------------------------------------------------------------------


def _moved_to(location: str, serial: int) -> Script:
    """Redirect every request but ``GET /moved`` there, which gets flags ``serial``."""

    def script(connection: Any, head: bytes) -> None:
        moved = head.startswith(b"GET /moved ")
        (answer(200, flags(serial).encode()) if moved else redirect(location))(connection, head)

    return script


def test_configured_headers_never_follow_a_redirect_to_another_origin(
    server: FlagServer,
) -> None:
    headers = {"X-Api-Key": KEY, "Authorization": f"Bearer {KEY}"}
    with hostile_server(redirect(server.url())) as hostile:
        with client(hostile.url + "/flags.yaml", headers=headers, watch=False) as fp:
            assert version(fp) == 1  # the redirect is followed, without the headers
        assert hostile.headers()[0]["x-api-key"] == KEY  # the configured origin has them
    sent = server.requests[0].headers
    assert KEY not in " ".join(f"{name}: {value}" for name, value in sent.items())


def test_configured_headers_follow_a_redirect_within_the_origin() -> None:
    with hostile_server(_moved_to("/moved", 2)) as hostile:
        with client(hostile.url + "/flags.yaml", headers={"X-Api-Key": KEY}, watch=False) as fp:
            assert version(fp) == 2
        assert [h.get("x-api-key") for h in hostile.headers()] == [KEY, KEY]


def test_configured_headers_follow_a_scheme_relative_redirect_to_the_same_origin() -> None:
    with hostile_server() as hostile:
        hostile.script = _moved_to(f"//127.0.0.1:{hostile.port}/moved", 3)
        with client(hostile.url + "/flags.yaml", headers={"X-Api-Key": KEY}, watch=False) as fp:
            assert version(fp) == 3
        assert [h.get("x-api-key") for h in hostile.headers()] == [KEY, KEY]


def test_configured_headers_follow_a_redirect_up_to_tls_on_the_same_host(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """http://host to https://host (another port) is the same server, better protected,
    as the FeatBit provider and ``import --live`` rule; the key was dropped, and a server
    that wants it answered 401."""
    certificate, key = self_signed(tmp_path)
    monkeypatch.setenv("SSL_CERT_FILE", str(certificate))  # httpx's own setting
    with hostile_server() as hostile, TlsTerminator(certificate, key, hostile.port) as tls:
        hostile.script = _moved_to(f"https://127.0.0.1:{tls.port}/moved", 4)
        with client(hostile.url + "/flags.yaml", headers={"X-Api-Key": KEY}, watch=False) as fp:
            assert version(fp) == 4
        assert [h.get("x-api-key") for h in hostile.headers()] == [KEY, KEY]


@pytest.mark.parametrize("drip", [drip_head, drip_body], ids=["head", "body"])
def test_a_dripping_server_cannot_hold_start_up_past_the_timeout(drip: Any) -> None:
    with (
        hostile_server(drip()) as hostile,
        client(hostile.url + "/flags.yaml", timeout=0.3, watch=False) as fp,
    ):
        result = fp.get_gate(USER, "new_checkout")
    assert result.error_code == "PROVIDER_NOT_READY"
    assert "timed out, the response took longer than the timeout (0.3s)" in (
        result.error_message or ""
    )


def test_a_gzip_bomb_stops_at_the_size_limit() -> None:
    with (
        hostile_server(gzip_bomb(2**27)) as hostile,  # 128 MiB of zeros in 128 KiB
        client(hostile.url + "/flags.yaml", watch=False) as fp,
    ):
        result = fp.get_gate(USER, "new_checkout")
    assert "larger than 67,108,864 bytes" in (result.error_message or "")


def test_an_etag_that_cannot_be_sent_back_is_not_kept(wait_for: Waiter) -> None:
    body = flags(1).encode()
    with (
        hostile_server(answer(200, body, ETag='"\xe9t\xe9"')) as hostile,
        client(hostile.url + "/flags.yaml") as fp,
    ):
        assert version(fp) == 1
        assert wait_for(lambda: url_stats(fp)["responses"]["200"] >= 3)
        stats = url_stats(fp)
        assert stats["responses"]["errors"] == 0, stats["last_error"]
        assert fp.stats()["provider"]["status"] == "READY"
    assert all("if-none-match" not in h for h in hostile.headers())


def test_a_304_to_a_request_naming_no_version_is_an_error_with_its_reason() -> None:
    with (
        hostile_server(answer(304, b"")) as hostile,
        client(hostile.url + "/flags.yaml", watch=False) as fp,
    ):
        result = fp.get_gate(USER, "new_checkout")
    assert result.error_code == "PROVIDER_NOT_READY"
    assert "304 Not Modified to a request naming no version" in (result.error_message or "")


def test_a_refused_file_is_logged_once_not_once_per_poll(
    server: FlagServer, wait_for: Waiter, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger="flagport")
    with client(server.url(), backoff_max=0.05) as fp:
        assert version(fp) == 1
        server.put("/flags.yaml", "configs:\n  release:\n    defualt: {version: 9}\n")
        assert wait_for(lambda: url_stats(fp)["responses"]["errors"] >= 4)
        assert version(fp) == 1  # the last good definitions keep serving
        assert provider(fp).failed_reloads == 1  # parsed once
        server.put("/flags.yaml", flags(2))
        assert wait_for(lambda: version(fp) == 2)
    refusals = [r for r in caplog.records if "defualt" in r.getMessage()]
    assert len(refusals) == 1, [r.getMessage() for r in refusals]


# -- the cache -------------------------------------------------------------------------


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs named pipes")
def test_a_cache_replaced_by_a_named_pipe_does_not_hang_start_up(
    server: FlagServer, tmp_path: Path
) -> None:
    cache = tmp_path / "flags.yaml"
    os.mkfifo(cache)  # opening it for reading would wait for a writer, for ever
    with client(server.url(), cache_path=str(cache), watch=False) as fp:
        assert version(fp) == 1
    assert cache.read_text() == flags(1)  # replaced by the real copy


@pytest.mark.skipif(not Path("/dev/zero").exists(), reason="needs /dev/zero")
def test_a_cache_pointing_at_a_device_is_read_bounded(server: FlagServer, tmp_path: Path) -> None:
    cache = tmp_path / "flags.yaml"
    cache.symlink_to("/dev/zero")
    server.mode = "fail"
    with client(server.url(), cache_path=str(cache), watch=False) as fp:
        assert version(fp) is None
        assert "larger than 64 MiB" in (provider(fp).last_error or "")


@pytest.mark.parametrize(
    "meta", ["[" * 100_000 + "]" * 100_000, "{not json", '{"etag": 1}' + " " * 2**20]
)
def test_a_tampered_cache_metadata_file_is_ignored(
    meta: str, server: FlagServer, tmp_path: Path
) -> None:
    cache = tmp_path / "flags.yaml"
    cache.write_text(flags(2))
    (tmp_path / "flags.yaml.meta.json").write_text(meta)
    with client(server.url(), cache_path=str(cache), watch=False) as fp:
        assert version(fp) == 1


def test_a_truncated_cache_file_is_refused_with_its_place(
    server: FlagServer, tmp_path: Path
) -> None:
    cache = tmp_path / "flags.yaml"
    with client(server.url(), cache_path=str(cache), watch=False) as fp:
        assert version(fp) == 1
    cache.write_text(flags(1)[:25])  # cut inside the mapping
    server.mode = "fail"
    with client(server.url(), cache_path=str(cache), watch=False) as fp:
        assert version(fp) is None
        error = provider(fp).last_error or ""
    assert f"{cache}" in error
    assert "cached copy of" in error


def test_a_cache_path_that_cannot_be_created_polls_without_it(
    server: FlagServer, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("not a directory")
    cache = blocker / "flags.yaml"
    caplog.set_level(logging.WARNING, logger="flagport")
    with client(server.url(), cache_path=str(cache), watch=False) as fp:
        assert version(fp) == 1
        assert fp.stats()["provider"]["status"] == "READY"
    warnings = [r.getMessage() for r in caplog.records if "cannot use the cache" in r.getMessage()]
    assert len(warnings) == 1
    assert str(cache) in warnings[0]
    assert "change cache_path" in warnings[0]


def _hops(serial: int) -> Script:
    """``GET /hopN/flags.yaml`` redirects to ``/hop<N-1>/flags.yaml``; ``/hop0/flags.yaml``
    gets flags ``serial``: a chain of N redirects."""

    def script(connection: Any, head: bytes) -> None:
        hops = int(head.split(b"/")[1].removeprefix(b"hop"))
        if hops:
            redirect(f"/hop{hops - 1}/flags.yaml")(connection, head)
        else:
            answer(200, flags(serial).encode())(connection, head)

    return script


def test_three_redirects_in_a_row_are_followed() -> None:
    with hostile_server(_hops(3)) as hostile:
        url = hostile.url + "/hop3/flags.yaml"
        with client(url, watch=False) as fp:
            assert version(fp) == 3


def test_a_fourth_redirect_is_refused_naming_the_limit_and_the_last_good_keeps_serving(
    wait_for: Waiter, caplog: pytest.LogCaptureFixture
) -> None:
    # Before: httpx's own limit, 20 redirects, was followed.
    with hostile_server(answer(200, flags(1).encode())) as hostile:
        url = hostile.url + "/hop4/flags.yaml"
        with client(url, backoff_max=0.2) as fp:
            assert version(fp) == 1
            hostile.script = _hops(0)  # /hop4 now redirects 4 times in a row
            assert wait_for(lambda: provider(fp).status is ProviderStatus.STALE)
            assert version(fp) == 1  # the last good definitions keep serving
            error = url_stats(fp)["last_error"]
    assert error == (
        f"{url}: redirected more than 3 times, the most flagport follows; set url to where "
        "the flags file is (a redirect loop?)"
    )
    assert error in caplog.text
