"""The environment secret never shows: not in logs, reprs, stats or exceptions.

The SDK sends the secret as the ``Authorization`` header of every request and, cut in
two around a timestamp, as the websocket's ``token`` parameter.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from leak_watch import SERVERS, SOURCES, run_provider, start_wait  # tests/support

from flagport_featbit.testing import FeatBitLoopback

CANARY = "fb-canary-Hq2mZt9LwX4c"
# The loopback server is not the client: it logs the requests it receives.
SERVER_LOGGERS = ("websockets.server",)


@pytest.mark.parametrize("server_state", SERVERS)
@pytest.mark.parametrize("source", SOURCES)
def test_the_env_secret_never_shows(
    source: str,
    server_state: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capfd: pytest.CaptureFixture[str],
) -> None:
    secret = CANARY if server_state == "right" else "fb-another-secret"
    server = FeatBitLoopback(env_secret=secret)
    watch, _ = run_provider(
        "featbit",
        "env_secret",
        CANARY,
        server,
        lambda srv: srv.provider_options(start_wait=start_wait(server_state)),
        source=source,
        server_state=server_state,
        tmp_path=tmp_path,
        monkeypatch=monkeypatch,
        loggers=("fbclient",),
        ignore=SERVER_LOGGERS,
    )
    # The real secret reached the server: it took the events.
    assert bool(server.metrics("purchase")) is (server_state == "right")
    watch.assert_clean(capfd)
