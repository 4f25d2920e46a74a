"""Insight posts that fail on the network: one plain warning per kind of failure, naming
the server and the option, never a traceback per attempt."""

from __future__ import annotations

import socket

import pytest

from flagport import Flagport, User
from flagport_featbit.testing import FeatBitLoopback

USER = User(user_id="u-1")


def test_a_refused_insight_post_is_one_line_without_a_traceback(
    caplog: pytest.LogCaptureFixture,
) -> None:
    closed = socket.socket()
    closed.bind(("127.0.0.1", 0))
    port = closed.getsockname()[1]
    closed.close()  # nothing listens there: connections are refused
    with FeatBitLoopback() as server:
        fp = Flagport(
            provider="featbit",
            **server.provider_options(event_url=f"http://127.0.0.1:{port}"),
        )
        try:
            fp.check_gate(USER, "new_checkout")
            for round_ in range(2):
                fp.log_event(USER, "click", round_)
                fp.flush(timeout=5)
        finally:
            fp.shutdown(timeout=2)
    failures = [r for r in caplog.records if "insight post" in r.getMessage()]
    warned = [r for r in failures if r.levelname == "WARNING"]
    assert len(warned) == 1, [r.getMessage() for r in failures]
    assert (
        warned[0]
        .getMessage()
        .startswith(f"flagport featbit: an insight post to http://127.0.0.1:{port} failed (")
    )
    assert "check event_url" in warned[0].getMessage()
    # Before: "FB Python SDK: sending error: ..." with a traceback, for every attempt.
    assert not [r for r in caplog.records if r.exc_info and "sending error" in r.getMessage()]


def test_shutdown_hangs_up_a_post_whose_answer_drips(caplog: pytest.LogCaptureFixture) -> None:
    import threading
    import time

    from hostile_http import drip_head, hostile_server

    before = set(threading.enumerate())
    with FeatBitLoopback() as server, hostile_server(drip_head()) as insights:
        fp = Flagport(provider="featbit", **server.provider_options(event_url=insights.url))
        fp.check_gate(USER, "new_checkout")
        fp.log_event(USER, "click", 1)
        deadline = time.monotonic() + 5
        while not insights.heads and time.monotonic() < deadline:
            time.sleep(0.02)
        assert insights.heads  # the post is in flight, its answer dripping
        started = time.monotonic()
        fp.shutdown(timeout=1)
        assert time.monotonic() - started < 1.5

        def left() -> list[str]:
            return [
                t.name
                for t in set(threading.enumerate()) - before
                if "featbit" in t.name and "loopback" not in t.name
            ]

        deadline = time.monotonic() + 2
        while left() and time.monotonic() < deadline:
            time.sleep(0.02)
        # Before: the SDK's threads waited on the post for as long as the answer dripped.
        assert not left(), left()
    assert "insight post" not in caplog.text  # hung up on purpose: not a failure to report
