"""The server secret never shows: not in logs, the SDK's console output, reprs or stats.

The SDK sends the secret in a header and in the definitions URL
(``<specs_url>/<secret>.json``) and logs that URL, masked by itself, on its console.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from leak_watch import SERVERS, SOURCES, run_provider, start_wait  # tests/support

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
