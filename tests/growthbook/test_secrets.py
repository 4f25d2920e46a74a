"""The client key never shows: not in the SDK's or urllib3's logs, reprs, stats or the CLI.

GrowthBook puts the key in the URL path (``/api/features/<key>``), so every fetch the
SDK and urllib3 log (and every failed one they warn about) carries it.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner
from leak_watch import SERVERS, SOURCES, LeakWatch, run_provider, start_wait  # tests/support

from flagport import Flagport
from flagport.cli import cli
from flagport_growthbook.testing import GrowthBookLoopback, scenario_payload

CANARY = "sdk-canary-7Qx9v2WbZk"
VENDOR_LOGGERS = ("growthbook", "urllib3")


@pytest.fixture
def down() -> str:
    """The URL of a GrowthBook that is not there (connections refused)."""
    server = GrowthBookLoopback().start()
    server.stop()
    return server.url


@pytest.mark.parametrize("server_state", SERVERS)
@pytest.mark.parametrize("source", SOURCES)
def test_the_client_key_never_shows(
    source: str,
    server_state: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capfd: pytest.CaptureFixture[str],
) -> None:
    key = CANARY if server_state == "right" else "sdk-another-key"
    server = GrowthBookLoopback(scenario_payload(), client_key=key)
    watch, stats = run_provider(
        "growthbook",
        "client_key",
        CANARY,
        server,
        lambda srv: srv.options(init_timeout=start_wait(server_state), retry_interval=0.1),
        source=source,
        server_state=server_state,
        tmp_path=tmp_path,
        monkeypatch=monkeypatch,
        loggers=VENDOR_LOGGERS,
    )
    if server_state == "right":
        assert stats["features"] > 0  # the real key reached the server
        assert server.events  # and events were sent with it
    else:
        assert stats["fetch_failures"] > 0
    watch.assert_clean(capfd)


def test_a_strict_client_raises_no_key(
    down: str, monkeypatch: pytest.MonkeyPatch, capfd: pytest.CaptureFixture[str]
) -> None:
    with LeakWatch(CANARY, VENDOR_LOGGERS) as watch:
        fp = Flagport(
            provider="growthbook", strict=True, client_key=CANARY, api_host=down, init_timeout=0.3
        )
        with pytest.raises(Exception) as info:
            fp.check_gate({"user_id": "1"}, "new_checkout")
        watch.add("exception", f"{info.value!s} {info.value!r}")
        fp.shutdown()
    watch.assert_clean(capfd)


def test_flagport_eval_with_the_vendor_down(down: str, capfd: pytest.CaptureFixture[str]) -> None:
    args = [
        "eval",
        "gate",
        "new_checkout",
        "--provider",
        "growthbook",
        "--option",
        f"client_key={CANARY}",
        "--option",
        f"api_host={down}",
        "--option",
        "init_timeout=0.3",
        "--user",
        '{"user_id": "1"}',
    ]
    with LeakWatch(CANARY, VENDOR_LOGGERS) as watch:
        result = CliRunner().invoke(cli, args)
        watch.add("cli output", result.output)
        watch.add("cli stderr", result.stderr)
    assert result.exit_code == 1, result.output  # PROVIDER_NOT_READY
    watch.assert_clean(capfd)

    # As a user runs it: no logging configured, so warnings reach stderr unfiltered.
    run = subprocess.run(
        [sys.executable, "-c", "from flagport.cli import main; main()", *args],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert run.returncode == 1, run.stderr
    assert "cannot fetch features from" in run.stderr  # the failure was reported
    assert CANARY not in run.stdout + run.stderr
