"""The local provider reading its flags file from a URL, against a server the test steers.

Conditional requests, backoff and recovery, the on-disk cache at cold start, refusal of a
bad file with its location, and secrets in headers. nginx's own ETag handling is checked
in ``test_url_nginx.py``; signatures in ``test_url_signing.py``; one poller per host in
``test_url_host.py``.
"""

from __future__ import annotations

import json
import logging
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from flag_server import FlagServer, flag_server  # tests/support
from url_helpers import USER, flags, url_stats, version  # tests/support
from url_helpers import local_provider as provider
from url_helpers import url_client as client

from flagport import ConfigurationError, Flagport
from flagport.provider import ProviderStatus
from flagport.providers.local import LocalProvider
from flagport.providers.local.url_source import UrlSource

SECRET = "Bearer s3cr3t-token-value"
Waiter = Callable[..., bool]


BAD = """\
configs:
  release:
    defualt: {version: 9}
"""


def test_an_unchanged_file_costs_a_304_and_no_reload(server: FlagServer, wait_for: Waiter) -> None:
    with client(server.url()) as fp:
        assert version(fp) == 1
        assert wait_for(lambda: url_stats(fp)["responses"]["304"] >= 3)
        stats = url_stats(fp)
        assert server.statuses()[0] == 200
        assert set(server.statuses()[1:]) == {304}
        assert provider(fp).reloads == 1  # parsed and compiled once
        assert stats["etag"].startswith('"')
        assert stats["responses"]["200"] == 1
        assert stats["responses"]["errors"] == 0
        assert stats["last_success_at"] is not None
        assert fp.stats()["provider"]["status"] == "READY"


def test_a_change_is_served_after_the_next_poll(server: FlagServer, wait_for: Waiter) -> None:
    with client(server.url()) as fp:
        assert version(fp) == 1
        server.put("/flags.yaml", flags(2))
        assert wait_for(lambda: version(fp) == 2)
        assert provider(fp).reloads == 2


def test_errors_report_stale_keep_serving_and_recover(server: FlagServer, wait_for: Waiter) -> None:
    with client(server.url(), backoff_max=0.2) as fp:
        assert version(fp) == 1
        server.mode = "fail"
        assert wait_for(lambda: provider(fp).status == ProviderStatus.STALE)
        assert version(fp) == 1  # the last good definitions keep serving
        stats = url_stats(fp)
        assert stats["responses"]["errors"] >= 1
        assert "HTTP 500" in stats["last_error"]
        assert stats["last_error_at"] is not None
        server.mode = "ok"
        server.put("/flags.yaml", flags(2))
        assert wait_for(lambda: provider(fp).status == ProviderStatus.READY)
        assert wait_for(lambda: version(fp) == 2)
        assert url_stats(fp)["consecutive_failures"] == 0


def test_a_dropped_connection_is_an_error_too(server: FlagServer, wait_for: Waiter) -> None:
    with client(server.url(), backoff_max=0.2) as fp:
        assert version(fp) == 1
        server.mode = "drop"
        assert wait_for(lambda: provider(fp).status == ProviderStatus.STALE)
        assert "RemoteProtocolError" in url_stats(fp)["last_error"]


def test_failures_back_off_exponentially_up_to_the_cap(server: FlagServer) -> None:
    local = LocalProvider.from_options(
        url=server.url(), poll_interval=2, poll_jitter=0, backoff_max=30, watch=False
    )
    assert isinstance(local, LocalProvider)
    source = UrlSource(local)
    pauses = []
    for failures in range(7):
        source.failures = failures
        source._schedule(ok=False)
        pauses.append(round(source._next_poll - time.monotonic()))
    assert pauses == [2, 4, 8, 16, 30, 30, 30]
    source._schedule(ok=True)
    assert round(source._next_poll - time.monotonic()) == 2


def test_jitter_spreads_the_pauses_of_a_fleet(server: FlagServer) -> None:
    local = LocalProvider.from_options(url=server.url(), poll_interval=10, poll_jitter=0.2)
    assert isinstance(local, LocalProvider)
    source = UrlSource(local)
    pauses = set()
    for _ in range(50):
        source._schedule(ok=True)
        pauses.add(round(source._next_poll - time.monotonic(), 3))
    assert len(pauses) > 10
    assert all(10 <= p <= 12.01 for p in pauses)


def test_cold_start_with_the_server_down_serves_the_cached_copy(
    server: FlagServer, tmp_path: Path
) -> None:
    cache = tmp_path / "cache" / "flags.yaml"
    with client(server.url(), cache_path=str(cache)) as fp:
        assert version(fp) == 1
    assert cache.read_text() == flags(1)
    server.mode = "fail"
    with client(server.url(), cache_path=str(cache)) as fp:
        assert version(fp) == 1
        stats = fp.stats()["provider"]
        assert stats["status"] == "STALE"
        assert stats["url"]["served_from"] == "cache"
        assert "HTTP 500" in stats["url"]["last_error"]


def test_a_cached_copy_of_another_url_is_never_served(server: FlagServer, tmp_path: Path) -> None:
    cache = tmp_path / "flags.yaml"
    with client(server.url(), cache_path=str(cache)) as fp:
        assert version(fp) == 1
    server.mode = "fail"
    with client(server.url("/other.yaml"), cache_path=str(cache)) as fp:
        result = fp.get_config(USER, "release")
        assert result.error_code == "PROVIDER_NOT_READY"


def test_cold_start_with_neither_serves_defaults(server: FlagServer) -> None:
    server.mode = "stall"
    with client(server.url(), timeout=0.3) as fp:
        result = fp.get_gate(USER, "new_checkout")
        assert result.value is False
        assert result.error_code == "PROVIDER_NOT_READY"
        assert "timed out" in (result.error_message or "").lower()
        server.release.set()
        server.mode = "ok"


def test_a_server_that_refuses_connections_gives_defaults_then_becomes_ready(
    wait_for: Waiter,
) -> None:
    with flag_server() as later:
        url = later.url()
    # The port is closed now: connections are refused.
    with client(url, backoff_max=0.1) as fp:
        result = fp.get_gate(USER, "new_checkout")
        assert result.error_code == "PROVIDER_NOT_READY"
        assert "ConnectError" in (result.error_message or "")
        assert provider(fp).status == ProviderStatus.ERROR


def test_the_provider_becomes_ready_when_the_server_first_answers(
    server: FlagServer, wait_for: Waiter
) -> None:
    server.delete("/flags.yaml")
    with client(server.url(), backoff_max=0.1) as fp:
        assert fp.get_gate(USER, "new_checkout").error_code == "PROVIDER_NOT_READY"
        assert "HTTP 404" in (url_stats(fp)["last_error"] or "")
        server.put("/flags.yaml", flags(3))
        assert wait_for(lambda: provider(fp).status == ProviderStatus.READY)
        assert version(fp) == 3


def test_a_bad_file_is_refused_with_its_location_and_the_last_good_keeps_serving(
    server: FlagServer, wait_for: Waiter, caplog: pytest.LogCaptureFixture
) -> None:
    with client(server.url(), backoff_max=0.2) as fp:
        assert version(fp) == 1
        with caplog.at_level(logging.ERROR, logger="flagport"):
            server.put("/flags.yaml", BAD)
            assert wait_for(lambda: provider(fp).failed_reloads >= 1)
        error = url_stats(fp)["last_error"]
        assert f"{server.url()}:3 at configs.release.defualt" in error
        assert "did you mean 'default'?" in error
        assert f"{server.url()}:3" in caplog.text
        assert version(fp) == 1
        assert provider(fp).status == ProviderStatus.STALE
        # Refused files are fetched again (not revalidated), so a fix is seen.
        server.put("/flags.yaml", flags(4))
        assert wait_for(lambda: version(fp) == 4)
        assert provider(fp).status == ProviderStatus.READY


def test_a_file_that_is_not_yaml_is_refused_with_its_line(
    server: FlagServer, wait_for: Waiter
) -> None:
    with client(server.url(), backoff_max=0.2) as fp:
        assert version(fp) == 1
        server.put("/flags.yaml", "configs:\n  release: [unclosed\n")
        assert wait_for(lambda: provider(fp).failed_reloads >= 1)
        assert f"{server.url()}:" in url_stats(fp)["last_error"]
        assert "not valid YAML" in url_stats(fp)["last_error"]


def test_headers_are_sent_and_an_auth_header_is_masked_everywhere(
    server: FlagServer, wait_for: Waiter, caplog: pytest.LogCaptureFixture
) -> None:
    url = server.url() + "?sig=abc123xyz"
    with caplog.at_level(logging.DEBUG):
        fp = client(url, headers={"Authorization": SECRET, "X-Team": "payments"})
        with fp:
            assert version(fp) == 1
            server.mode = "fail"
            assert wait_for(lambda: provider(fp).status == ProviderStatus.STALE)
            shown = [
                repr(provider(fp).options),
                str(provider(fp).describe()),
                str(fp.stats()),
                repr(fp),
            ]
    request = server.requests[0]
    assert request.headers["Authorization"] == SECRET
    assert request.headers["X-Team"] == "payments"
    for text in [*shown, caplog.text]:
        assert "s3cr3t-token-value" not in text
        assert "hunter2-password" not in text
    assert "payments" in shown[0]
    # The query string (a presigned URL's signature) is left out of stats and messages,
    # and redacted from what httpx logs of each request.
    assert "abc123xyz" not in str(fp.stats())
    assert "flags.yaml?***" in caplog.text
    assert "abc123xyz" not in caplog.text


def test_a_password_in_the_url_is_masked(server: FlagServer) -> None:
    url = server.url().replace("http://", "http://deploy:hunter2-password@")
    with client(url, watch=False) as fp:
        assert version(fp) == 1
        shown = [repr(provider(fp).options), str(fp.stats()), str(provider(fp).describe())]
    assert server.requests[0].headers["Authorization"].startswith("Basic ")
    for text in shown:
        assert "hunter2-password" not in text


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"url": "http://h/flags.yaml", "path": "flags.yaml"}, "not both"),
        ({"url": "ftp://h/flags.yaml"}, "http:// or https://"),
        ({"url": "http://h/flags"}, "must end in .yaml, .yml, .json or .toml"),
        ({"url": "http://h/flags.yaml", "public_key": "nope"}, "base64 of an ed25519"),
        ({"url": "http://h/flags.yaml", "poll_interval": 0}, "greater than 0"),
    ],
)
def test_url_options_are_checked_at_construction(options: dict[str, Any], message: str) -> None:
    with pytest.raises(ConfigurationError, match=message):
        Flagport(provider="local", **options)


@pytest.mark.parametrize("url", ["https://h/tok-s3cr3t-tok", "https://h/tok-s3cr3t-tok.txt"])
def test_a_url_without_a_flags_file_extension_does_not_quote_its_path(url: str) -> None:
    # A tokenised URL carries its secret in the path; the error names only the ending.
    with pytest.raises(ConfigurationError, match=r"must end in \.yaml") as info:
        Flagport(provider="local", url=url)
    assert "s3cr3t" not in str(info.value)


def test_a_token_in_a_folder_of_the_url_is_shown_nowhere(
    server: FlagServer, wait_for: Waiter, caplog: pytest.LogCaptureFixture
) -> None:
    # A tokenised link (https://cdn/<token>/flags.yaml) carries its secret in a folder.
    token = "tok3n5ecr3t0123456789"
    server.put(f"/v1/{token}/flags.yaml", flags(1))
    with caplog.at_level(logging.DEBUG), client(server.url(f"/v1/{token}/flags.yaml")) as fp:
        assert version(fp) == 1
        server.put(f"/v1/{token}/flags.yaml", "configs:\n  release: [unclosed\n")
        assert wait_for(lambda: provider(fp).failed_reloads >= 1)
        shown = [str(fp.stats()), str(provider(fp).describe()), repr(fp)]
        error = url_stats(fp)["last_error"]
    for text in [*shown, caplog.text]:
        assert token not in text
    assert "/v1/***/flags.yaml: " in error


_PATH_EVALUATION = """
import json, sys
import flagport
with flagport.Flagport(provider="local", path="examples/flags.yaml", watch=False) as fp:
    fp.check_gate(flagport.User(user_id="42"), "new_checkout")
print(json.dumps(sorted(sys.modules)))
"""


def test_a_provider_reading_a_path_imports_nothing_of_the_url_extra() -> None:
    root = Path(__file__).resolve().parents[3]
    done = subprocess.run(
        [sys.executable, "-c", _PATH_EVALUATION], capture_output=True, text=True, cwd=root
    )
    modules = json.loads(done.stdout)
    loaded = [m for m in modules if m.split(".")[0] in ("httpx", "filelock", "cryptography")]
    assert loaded == []


def test_watch_false_fetches_once(server: FlagServer) -> None:
    with client(server.url(), watch=False) as fp:
        assert version(fp) == 1
        assert not url_stats(fp)["polling"]
    assert server.statuses() == [200]
