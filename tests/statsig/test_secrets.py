"""The server secret never shows: not in logs, the SDK's console output, reprs or stats.

The SDK sends the secret in a header and in the definitions URL
(``<specs_url>/<secret>.json``) and logs that URL, masked by itself, on its console.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from leak_watch import SERVERS, SOURCES, LeakWatch, exercise, settle_source  # tests/support

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
    given = settle_source(source, "statsig", "server_secret", CANARY, tmp_path, monkeypatch)
    secret = CANARY if server_state == "right" else "secret-another-one"
    with (
        StatsigLoopbackServer(scenario_specs(), server_secret=secret) as server,
        LeakWatch(CANARY) as watch,
    ):
        options = server.provider_options(init_timeout_ms=500, log_level="debug")
        del options["server_secret"]
        if server_state == "down":
            server.stop()
        fp = Flagport(provider="statsig", **given, **options)
        stats = exercise(fp, watch)["provider"]
        assert stats["ready"] is (server_state == "right")  # the real secret was sent
        if server_state == "right":
            assert server.custom_events("purchase")
    watch.assert_clean(capfd)
