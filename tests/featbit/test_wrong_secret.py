"""A wrong env_secret: FeatBit closes every data sync with code 4003. The provider says
so once, naming the option, and its not-ready answers say it too."""

from __future__ import annotations

import time

import pytest

from flagport import Flagport, User
from flagport_featbit.testing import FeatBitLoopback

USER = User(user_id="u-1")
WRONG = "wrong-secret-canary-4242"


def test_a_refused_secret_is_named_once_and_in_the_answers(
    caplog: pytest.LogCaptureFixture,
) -> None:
    with FeatBitLoopback() as server:
        fp = Flagport(
            provider="featbit", **server.provider_options(env_secret=WRONG, start_wait=0.5)
        )
        try:
            fp.get_gate(USER, "new_checkout")
            deadline = time.monotonic() + 5
            while len(server.requests) < 3 and time.monotonic() < deadline:
                time.sleep(0.02)  # refused again and again: still said once
            result = fp.get_gate(USER, "new_checkout")
        finally:
            fp.shutdown(timeout=2)
    said = [
        r.getMessage()
        for r in caplog.records
        if r.name == "flagport.featbit" and "refused the env_secret" in r.getMessage()
    ]
    assert len(said) == 1, said
    assert said[0].startswith(f"flagport featbit: {server.streaming_url} refused the env_secret")
    assert "check env_secret (FLAGPORT_FEATBIT_ENV_SECRET)" in said[0]
    assert result.error_code == "PROVIDER_NOT_READY"
    assert "it refused the env_secret: check env_secret" in (result.error_message or "")
    assert WRONG not in caplog.text
