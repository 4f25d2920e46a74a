"""The environment secret never shows: not in logs, reprs, stats or exceptions.

The SDK sends the secret as the ``Authorization`` header of every request and, cut in
two around a timestamp, as the websocket's ``token`` parameter.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from leak_watch import SERVERS, SOURCES, LeakWatch, exercise, settle_source  # tests/support

from flagport import Flagport
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
    given = settle_source(source, "featbit", "env_secret", CANARY, tmp_path, monkeypatch)
    secret = CANARY if server_state == "right" else "fb-another-secret"
    with (
        FeatBitLoopback(env_secret=secret) as server,
        LeakWatch(CANARY, ("fbclient",), ignore=SERVER_LOGGERS) as watch,
    ):
        options = server.provider_options(start_wait=0.5)
        del options["env_secret"]
        if server_state == "down":
            server.stop()
        fp = Flagport(provider="featbit", **given, **options)
        exercise(fp, watch)
        if server_state == "right":
            assert server.metrics("purchase")  # the real secret reached the server
        else:
            assert not server.metrics()
    watch.assert_clean(capfd)
