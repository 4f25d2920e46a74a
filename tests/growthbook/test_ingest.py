"""The ingest sender: batching, bounded queue, delivery on flush and close."""

from __future__ import annotations

import socket
import threading
import time
from typing import Any

from flagport_growthbook._ingest import IngestSender
from flagport_growthbook.testing import GrowthBookLoopback


def sender(url: str, **kwargs: Any) -> IngestSender:
    return IngestSender(f"{url}/track?client_key=k", "test-agent", **kwargs)


def test_batches_are_cut_at_batch_size() -> None:
    with GrowthBookLoopback() as server:
        ingest = sender(server.url, batch_size=3, flush_interval=30)
        for i in range(7):
            ingest.send({"event_name": "e", "i": i})
        assert ingest.close(timeout=5)
        assert [len(b["rows"]) for b in server.batches] == [3, 3, 1]
        assert [r["i"] for r in server.events] == list(range(7))
        assert (ingest.sent, ingest.failed, ingest.dropped) == (7, 0, 0)


def test_rows_wait_at_most_the_flush_interval() -> None:
    with GrowthBookLoopback() as server:
        ingest = sender(server.url, flush_interval=0.1)
        ingest.send({"event_name": "e"})
        assert server.wait_for_events(timeout=5)
        ingest.close(timeout=2)


def test_a_full_queue_drops_new_rows_and_counts_them() -> None:
    silent = socket.socket()
    silent.bind(("127.0.0.1", 0))
    silent.listen(4)
    try:
        ingest = sender(
            f"http://127.0.0.1:{silent.getsockname()[1]}",
            max_queue=5,
            batch_size=100,
            flush_interval=30,
            timeout=0.5,
        )
        for i in range(8):
            ingest.send({"i": i})
        assert (ingest.pending(), ingest.dropped) == (5, 3)
        started = time.monotonic()
        assert ingest.close(timeout=0.2) is False  # the server never answers
        assert time.monotonic() - started < 2
        ingest.send({"late": True})
        assert ingest.dropped == 4
    finally:
        silent.close()


def test_refused_delivery_is_counted_not_raised() -> None:
    with GrowthBookLoopback() as server:
        url = server.url
    ingest = sender(url, flush_interval=0.05, timeout=1)
    ingest.send({"i": 1})
    assert ingest.flush(timeout=5)
    assert (ingest.sent, ingest.failed) == (0, 1)
    ingest.close(timeout=1)


def test_no_thread_until_the_first_row() -> None:
    before = threading.active_count()
    ingest = sender("http://127.0.0.1:9")
    assert ingest.flush(timeout=1)
    assert ingest.close(timeout=1)
    assert threading.active_count() == before
