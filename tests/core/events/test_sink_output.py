"""Every sink gets the same event, writes valid JSON, and reports failures in one short line."""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

import pytest
from pydantic import BaseModel
from pydantic_core import to_json

from flagport import Event, Flagport, User
from flagport.events import sinks

USER = User(user_id="7", custom={"plan": "pro"})
TRUNCATED = "<truncated by flagport>"


def _strict_json(line: str | bytes) -> Any:
    def refuse(token: str) -> Any:
        raise AssertionError(f"invalid JSON token {token} in {line!r}")

    return json.loads(line, parse_constant=refuse)


def test_non_finite_numbers_are_written_as_strings_in_valid_json(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path = tmp_path / "events.jsonl"
    sinks = {"sinks": ["jsonl", "logging"], "jsonl_path": path, "logging_level": "WARNING"}
    with (
        caplog.at_level(logging.WARNING, logger="flagport.events"),
        Flagport(provider="passall", events=sinks) as fp,
    ):
        fp.log_event(USER, "v", float("nan"))
        fp.log_event(USER, "m", 1.5, {"x": float("inf"), "deep": [{"y": -float("inf")}]})
        fp.log_event(USER, "text", "NaN and Infinity are words here", {"ok": 2.0})
    written = [_strict_json(line) for line in path.read_text().splitlines()]
    logged = [_strict_json(r.getMessage()) for r in caplog.records if r.name == "flagport.events"]
    for events in (written, logged):
        assert [e["value"] for e in events] == ["NaN", 1.5, "NaN and Infinity are words here"]
        assert events[1]["metadata"] == {"x": "Infinity", "deep": [{"y": "-Infinity"}]}
        assert events[2]["metadata"] == {"ok": 2.0}


def test_a_line_with_non_finite_numbers_is_encoded_in_one_pass(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Before, such a line was encoded, searched for NaN/Infinity and encoded again.
    passes: list[object] = []

    def counting(value: object, **options: Any) -> bytes:
        passes.append(value)
        return to_json(value, **options)

    monkeypatch.setattr(sinks, "to_json", counting)
    item = {"value": float("nan"), "metadata": {"up": float("inf"), "down": [-float("inf")]}}
    line = sinks.encode(item)
    assert len(passes) == 1
    assert _strict_json(line) == {
        "value": "NaN",
        "metadata": {"up": "Infinity", "down": ["-Infinity"]},
    }


def test_a_failing_sinks_log_line_is_one_short_line(caplog: pytest.LogCaptureFixture) -> None:
    class Order(BaseModel):
        quantity: int

    def down(event: Event) -> None:
        if event.name.startswith("bad-order"):
            Order(quantity=event.metadata["quantity"])  # type: ignore[arg-type]
        raise ConnectionError("vendor\nunreachable " + "x" * 500_000)

    events = {"sinks": [down], "max_event_bytes": 4096}
    with (
        caplog.at_level(logging.WARNING, logger="flagport.events"),
        Flagport(provider="passall", events=events) as fp,
    ):
        fp.log_event(USER, "n" * 1_000_000)
        fp.log_event(USER, "bad-order", metadata={"quantity": "card 4111-1111"})
        assert fp.flush(timeout=30)
        counts = fp.stats()["events"]["down"]
    assert (counts["failed"], counts["truncated"]) == (2, 1)
    failures = [r.getMessage() for r in caplog.records if "could not take" in r.getMessage()]
    assert len(failures) == 2
    for line in failures:
        assert "\n" not in line
        assert len(line) < 600
    assert "ConnectionError: vendor unreachable xxx" in failures[0]
    assert "event 'nnnn" in failures[0]
    assert "ValidationError: quantity: Input should be a valid integer" in failures[1]
    assert "input_value" not in failures[1]
    assert "4111" not in failures[1]
    cut = [r.getMessage() for r in caplog.records if "had its name cut" in r.getMessage()]
    assert len(cut) == 1
    assert len(cut[0]) < 600


def test_an_events_name_is_bounded_like_its_metadata(tmp_path: Path) -> None:
    received: list[Event] = []
    path = tmp_path / "events.jsonl"
    events = {"sinks": [received.append, "jsonl"], "jsonl_path": path, "max_event_bytes": 4096}
    with Flagport(provider="passall", events=events) as fp:
        fp.log_event(USER, "n" * 1_000_000)
        fp.log_event(USER, "short")
        assert fp.flush(timeout=30)
        stats = fp.stats()["events"]
    long_name = received[0].name
    assert len(long_name) <= 4096
    assert long_name.endswith(TRUNCATED)
    assert [_strict_json(line)["name"] for line in path.read_text().splitlines()] == [
        long_name,
        "short",
    ]
    assert [s["truncated"] for s in stats.values()] == [1, 1]


def test_every_sink_sees_metadata_keys_as_json_writes_them(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    received: list[Event] = []
    path = tmp_path / "events.jsonl"
    sinks = {"sinks": [received.append, "jsonl"], "jsonl_path": path}
    metadata = {1: "a", False: "b", None: "c", 2.5: "d", "e": {7: "nested"}}
    with (
        caplog.at_level(logging.WARNING, logger="flagport"),
        Flagport(provider="passall", events=sinks) as fp,
    ):
        fp.log_event(USER, "keys", metadata=metadata)  # type: ignore[arg-type]
        fp.log_event(USER, "text", metadata="sku=A1")  # type: ignore[arg-type]
        assert fp.flush(timeout=30)
        stats = fp.stats()["events"]
    expected = {"1": "a", "false": "b", "null": "c", "2.5": "d", "e": {"7": "nested"}}
    assert [dict(event.metadata) for event in received] == [expected]
    assert [_strict_json(line)["metadata"] for line in path.read_text().splitlines()] == [expected]
    assert [(s["delivered"], s["failed"]) for s in stats.values()] == [(1, 0), (1, 0)]
    dropped = [r.getMessage() for r in caplog.records if "dropped" in r.getMessage()]
    assert dropped == [
        "flagport: event 'text' dropped: TypeError: metadata must be a mapping, got str"
    ]
