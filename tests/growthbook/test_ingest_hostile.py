"""An ingestor that drips its answer, or never answers: shutdown ends within its own
timeout, hangs up the post in flight and leaves no worker behind."""

from __future__ import annotations

import socket
import threading
import time

import pytest
from hostile_http import Script, drip_head, hostile_server, silent

from flagport import Flagport, User
from flagport_growthbook.testing import GrowthBookLoopback, scenario_payload

USER = User(user_id="u-1", country="US")


def _ingest_threads() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name == "flagport-growthbook-ingest"]


def _never_answers(connection: socket.socket, head: bytes) -> None:
    silent(connection)


@pytest.mark.parametrize("script", [drip_head(), _never_answers], ids=["drips", "never-answers"])
def test_shutdown_is_bounded_and_stops_the_post_in_flight(
    script: Script, caplog: pytest.LogCaptureFixture
) -> None:
    with GrowthBookLoopback(scenario_payload()) as real, hostile_server(script) as ingestor:
        fp = Flagport(
            provider="growthbook",
            **real.options(ingestor_host=ingestor.url, http_timeout=30, events_flush_interval=0.05),
        )
        assert fp.check_gate(USER, "new_checkout") is True
        for i in range(3):
            fp.log_event(USER, "click", i)
        deadline = time.monotonic() + 5
        while len(ingestor.heads) < 1 and time.monotonic() < deadline:
            time.sleep(0.02)
        assert ingestor.heads  # the post is in flight, its answer dripping
        started = time.monotonic()
        fp.shutdown(timeout=1)
        # Before: 0.6 s waiting for delivery plus 1 s joining the worker, and the worker
        # read the drip on for as long as it came.
        assert time.monotonic() - started < 1.3
        deadline = time.monotonic() + 1
        while _ingest_threads() and time.monotonic() < deadline:
            time.sleep(0.02)
        assert not _ingest_threads()
    assert f"3 event(s) not delivered to the ingestor at {ingestor.url} before shutdown" in (
        caplog.text
    )
