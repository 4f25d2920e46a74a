"""Delivery accounting: each event counted alone, and in exactly one counter at any time."""

from __future__ import annotations

import json
import logging
import threading
from pathlib import Path
from typing import Any

import pytest

from flagport import Event, Flagport, User
from flagport.events.settings import EventSettings
from flagport.events.sinks import CallableSink
from flagport.events.worker import SinkWorker

USER = User(user_id="7", custom={"plan": "pro"}, private={"ssn": "123-45-6789"})


def _balance(counts: dict[str, int]) -> int:
    """What ``accepted`` exceeds the other counters by (0 when every event is in one)."""
    held = ("delivered", "failed", "dropped", "queued", "in_flight")
    return counts["accepted"] - sum(counts[k] for k in held)


def test_an_unserialisable_event_fails_alone_and_is_named_once(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path = tmp_path / "events.jsonl"
    events = {"sinks": ["jsonl"], "jsonl_path": path, "batch_size": 5000, "flush_interval": 60}
    with caplog.at_level(logging.ERROR, logger="flagport.events"):
        fp = Flagport(provider="passall", events=events)
        for i in range(999):
            fp.log_event(USER, "good", i)
        fp.log_event(USER, "bad", 1, {"obj": object(), "card": "4111-1111"})
        for i in range(999):
            fp.log_event(USER, "good", i)
        assert fp.flush(timeout=30)
        counts = fp.stats()["events"]["jsonl"]
        fp.shutdown()
    assert (counts["delivered"], counts["failed"]) == (1998, 1)
    names = [json.loads(line)["name"] for line in path.read_text().splitlines()]
    assert names == ["good"] * 1998
    messages = [r.getMessage() for r in caplog.records if r.name == "flagport.events"]
    assert len(messages) == 1
    assert "event 'bad'" in messages[0]
    assert "sink 'jsonl'" in messages[0]
    assert "4111" not in messages[0]
    assert "123-45" not in messages[0]


def test_a_model_sink_that_rejects_one_event_gets_every_other() -> None:
    received: list[str] = []

    def picky(event: Event) -> None:
        if event.name == "poison":
            raise ValueError("cannot take this one")
        received.append(event.name)

    events = {"sinks": [picky], "batch_size": 100, "flush_interval": 60}
    with Flagport(provider="passall", events=events) as fp:
        for i in range(50):
            fp.log_event(USER, "poison" if i == 25 else f"e{i}")
        assert fp.flush(timeout=30)
        counts = fp.stats()["events"]["picky"]
    assert (counts["delivered"], counts["failed"]) == (49, 1)
    assert received == [f"e{i}" for i in range(50) if i != 25]


def test_a_batch_held_by_a_stalled_sink_is_counted_in_flight() -> None:
    entered = threading.Event()
    release = threading.Event()

    def stalled(event: Event) -> None:
        entered.set()
        release.wait(60)

    events = {"sinks": [stalled], "batch_size": 1000, "flush_interval": 60}
    fp = Flagport(provider="passall", events=events)
    try:
        for i in range(5000):
            fp.log_event(USER, "tick", i)
        assert entered.wait(30)  # the worker holds its first batch inside the sink
        counts = fp.stats()["events"]["stalled"]
        assert counts["accepted"] == 5000
        assert (counts["in_flight"], counts["queued"], counts["delivered"]) == (1000, 4000, 0)
        assert _balance(counts) == 0
    finally:
        release.set()
        fp.shutdown(timeout=30)
    counts = fp.stats()["events"]["stalled"]
    assert (counts["delivered"], counts["in_flight"], counts["queued"]) == (5000, 0, 0)


def test_every_event_is_in_one_counter_while_producers_race_a_draining_sink() -> None:
    gate = threading.Event()
    delivered: list[int] = []

    def sink(event: Event) -> None:
        gate.wait(60)
        delivered.append(1)

    events: dict[str, Any] = {
        "sinks": [sink, "logging"],
        "batch_size": 7,
        "max_queue": 300,
        "flush_interval": 60,
    }
    fp = Flagport(provider="passall", events=events)
    producing = threading.Event()
    producing.set()
    readings: list[dict[str, dict[str, int]]] = []
    halfway = threading.Barrier(5)

    def produce(n: int) -> None:
        for i in range(2000):
            if i == 1000:
                halfway.wait(60)
            fp.log_event(USER, f"p{n}", i)

    def read() -> None:
        while producing.is_set():
            readings.append(fp.stats()["events"])

    reader = threading.Thread(target=read)
    producers = [threading.Thread(target=produce, args=(n,)) for n in range(4)]
    reader.start()
    for thread in producers:
        thread.start()
    # The sink stalls until 4,000 events were offered (so the queue overflowed), then
    # drains while the producers log their second halves.
    halfway.wait(60)
    gate.set()
    for thread in producers:
        thread.join()
    producing.clear()
    reader.join()
    assert fp.flush(timeout=60)
    final = fp.stats()["events"]
    fp.shutdown()
    assert readings
    unbalanced = [r for r in readings if any(_balance(c) for c in r.values())]
    assert unbalanced == []
    counts = final["sink"]
    assert counts["accepted"] == 8000
    assert counts["dropped"] > 0  # the queue did overflow
    assert counts["delivered"] == len(delivered) == 8000 - counts["dropped"]
    assert _balance(final["logging"]) == 0


def test_a_failing_sink_names_a_bounded_number_of_events(caplog: pytest.LogCaptureFixture) -> None:
    def down(event: Event) -> None:
        raise ConnectionError("vendor unreachable")

    with (
        caplog.at_level(logging.ERROR, logger="flagport.events"),
        Flagport(provider="passall", events={"sinks": [down]}) as fp,
    ):
        for i in range(500):
            fp.log_event(USER, f"event-{i}")
        assert fp.flush(timeout=30)
        assert fp.stats()["events"]["down"]["failed"] == 500
    messages = [r.getMessage() for r in caplog.records if r.name == "flagport.events"]
    assert len(messages) == 21
    assert all("event 'event-" in m for m in messages[:20])
    assert "keeps failing" in messages[-1]


def test_an_event_that_is_no_valid_model_fails_alone() -> None:
    received: list[str] = []
    settings = EventSettings(flush_interval=60)
    worker = SinkWorker(CallableSink(received.append, name="names"), settings, _model_of)
    for name in ("before", "no model", "after"):
        worker.queue.append(((0.0, None, None, name), 10, False))
        worker.accepted += 1
        worker.bytes_in += 10
    worker._drain()
    counts = worker.stats()
    assert received == ["before", "after"]
    assert (counts["delivered"], counts["failed"], counts["queued_bytes"]) == (2, 1, 0)


def _model_of(record: Any) -> str:
    if record[3] == "no model":
        raise ValueError("this record makes no Event")
    return str(record[3])
