"""The server secret never shows: not in logs, the SDK's console output, reprs or stats.

The SDK sends the secret in a header and in the definitions URL
(``<specs_url>/<secret>.json``) and logs that URL, masked by itself, on its console.
"""

from __future__ import annotations

import socket
import time
from pathlib import Path

import pytest
from leak_watch import SERVERS, SOURCES, LeakWatch, run_provider, start_wait  # tests/support

from flagport import Flagport
from flagport_statsig.testing import StatsigLoopbackServer, scenario_specs

CANARY = "secret-canary-Rk3vQ8wXz5Yp"


@pytest.mark.parametrize("server_state", SERVERS)
@pytest.mark.parametrize("source", SOURCES)
def test_the_server_secret_never_shows(
    source: str,
    server_state: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capfd: pytest.CaptureFixture[str],
) -> None:
    secret = CANARY if server_state == "right" else "secret-another-one"
    server = StatsigLoopbackServer(scenario_specs(), server_secret=secret)
    watch, stats = run_provider(
        "statsig",
        "server_secret",
        CANARY,
        server,
        lambda srv: srv.provider_options(
            init_timeout_ms=int(start_wait(server_state) * 1000), log_level="debug"
        ),
        source=source,
        server_state=server_state,
        tmp_path=tmp_path,
        monkeypatch=monkeypatch,
    )
    assert stats["ready"] is (server_state == "right")  # the real secret was sent
    if server_state == "right":
        assert server.custom_events("purchase")
    watch.assert_clean(capfd)


@pytest.mark.parametrize("canary", ["plain-canary-Qm4Zt8wLx", "secret-canary-Vb7Hn2kPq"])
def test_the_sdks_own_errors_are_redacted_log_records(
    canary: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capfd: pytest.CaptureFixture[str],
) -> None:
    """The SDK masks only keys that start with ``secret-``, and only partly: its output
    goes through Python logging, where flagport redacts the secret whatever its form."""
    server = StatsigLoopbackServer(scenario_specs(), server_secret=canary)
    watch, stats = run_provider(
        "statsig",
        "server_secret",
        canary,
        server,
        lambda srv: srv.provider_options(init_timeout_ms=500),  # the default log_level
        source="constructor",
        server_state="down",
        tmp_path=tmp_path,
        monkeypatch=monkeypatch,
    )
    assert stats["ready"] is False
    sdk_errors = [text for label, text in watch.texts if label == "log statsig"]
    assert any("download_config_specs/***.json" in text for text in sdk_errors)
    watch.assert_clean(capfd)
    # A prefix of the key is as bad as the key: the SDK's own masking showed 12 characters.
    out, err = capfd.readouterr()
    assert canary[:12] not in "".join(text for _, text in watch.texts) + out + err


@pytest.mark.parametrize("canary", [CANARY, "plain-canary-Hs5Wd3nLp"])
def test_a_private_server_down_shows_the_secret_nowhere(
    canary: str, capfd: pytest.CaptureFixture[str]
) -> None:
    """The SDK's error reports (kept from Statsig's API by flagport) and every record it
    and flagport log at DEBUG while the server refuses connections."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        closed = f"http://127.0.0.1:{probe.getsockname()[1]}"
    with LeakWatch(canary, loggers=["statsig", "flagport"]) as watch:
        fp = Flagport(
            provider="statsig",
            server_secret=canary,
            api_url=closed,
            enable_id_lists=True,
            init_timeout_ms=300,
            log_level="debug",
        )
        fp.check_gate({"user_id": "u-1"}, "new_checkout")
        fp.log_event({"user_id": "u-1"}, "purchase")
        give_up = time.monotonic() + 10  # a hang guard
        while not any("kept the Statsig SDK" in t for _, t in watch.texts):
            assert time.monotonic() < give_up, "the SDK reported no error"
            time.sleep(0.05)
        fp.flush(2)
        fp.shutdown(2)
    watch.assert_clean(capfd)
    assert canary[:12] not in "".join(text for _, text in watch.texts)
