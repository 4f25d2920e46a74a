"""What one event may carry, and what a queue may hold, is bounded."""

from __future__ import annotations

import dataclasses
import itertools
import json
import logging
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest

from flagport import Event, EventKind, Flagport, User

TRUNCATED = "<truncated by flagport>"
USER = User(user_id="7", private={"ssn": "123-45-6789"})


def _jsonl(path: Path, **events: Any) -> Flagport:
    return Flagport(provider="passall", events={"sinks": ["jsonl"], "jsonl_path": path, **events})


def _depth(value: Any) -> int:
    if isinstance(value, dict):
        return 1 + max(map(_depth, value.values()), default=0)
    if isinstance(value, list):
        return 1 + max(map(_depth, value), default=0)
    return 0


def test_a_user_built_from_shared_references_is_cut_not_expanded(tmp_path: Path) -> None:
    # 40 levels of {"a": d, "b": [d]} encode to 3**40 copies: the process used to abort
    # in the encoder or be killed by the OOM killer. An address-space limit turns that
    # into a failure of this test rather than of the machine.
    path = tmp_path / "events.jsonl"
    code = textwrap.dedent(
        """
        import resource, sys
        resource.setrlimit(resource.RLIMIT_AS, (1536 * 2**20, 1536 * 2**20))
        from flagport import Flagport, User

        d = {"leaf": 1}
        for _ in range(40):
            d = {"a": d, "b": [d]}
        user = User(user_id="1", custom={"tree": d})
        fp = Flagport(provider="passall", events={"sinks": ["jsonl"], "jsonl_path": sys.argv[1]})
        assert fp.check_gate(user, "any")
        fp.log_event(user, "purchase", 1, {"tree": d})
        fp.log_exposure(user, "button_color")
        fp.shutdown(timeout=60)
        print(fp.stats()["events"]["jsonl"])
        """
    )
    done = subprocess.run(
        [sys.executable, "-c", code, str(path)],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    counts = eval(done.stdout)  # a dict literal printed by the child
    assert (counts["delivered"], counts["failed"], counts["truncated"]) == (2, 0, 2)
    lines = path.read_bytes().splitlines()
    assert len(lines) == 2
    limit = 64 * 1024
    for raw in lines:
        event = json.loads(raw)
        # The metadata and the user's attributes each stay within max_event_bytes.
        assert len(raw) < 2 * limit + 1024
        assert TRUNCATED in raw.decode()
        assert _depth(event["user"]["custom"]) <= 20
    assert "had its user attributes cut" in done.stderr


def test_self_referencing_metadata_is_cut_and_counted(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    loop: dict[str, Any] = {"name": "root"}
    loop["self"] = loop
    loop["items"] = [loop, {"up": loop}]
    path = tmp_path / "events.jsonl"
    with caplog.at_level(logging.WARNING, logger="flagport.events"):
        fp = _jsonl(path)
        fp.log_event(USER, "loop", 1, {"loop": loop})
        fp.log_event(USER, "loop", 2, {"loop": loop})
        fp.log_event(USER, "fine", 3, {"sku": "A1"})
        fp.shutdown(timeout=30)
    counts = fp.stats()["events"]["jsonl"]
    assert (counts["delivered"], counts["failed"], counts["truncated"]) == (3, 0, 2)
    first, _, fine = (json.loads(line) for line in path.read_text().splitlines())
    assert first["metadata"]["loop"]["self"] == TRUNCATED
    assert first["metadata"]["loop"]["items"] == [TRUNCATED, {"up": TRUNCATED}]
    assert fine["metadata"] == {"sku": "A1"}
    warnings = [r.getMessage() for r in caplog.records if "cut to" in r.getMessage()]
    assert len(warnings) == 1  # once per event name
    assert "'loop'" in warnings[0]
    assert "root" not in warnings[0]


def test_deep_and_large_metadata_is_cut_to_the_bounds(tmp_path: Path) -> None:
    deep: Any = "bottom"
    for _ in range(5000):
        deep = [deep]
    path = tmp_path / "events.jsonl"
    fp = _jsonl(path, max_event_depth=8, max_event_bytes=4096)
    fp.log_event(USER, "deep", metadata={"deep": deep})
    fp.log_event(USER, "large", metadata={"blob": "x" * 1_000_000, "after": "y"})
    fp.log_event(USER, "wide", metadata={f"k{i}": i for i in range(100_000)})
    fp.log_event(USER, "long value", "v" * 1_000_000)
    fp.shutdown(timeout=30)
    assert fp.stats()["events"]["jsonl"]["truncated"] == 4
    deep_event, large, wide, value = (json.loads(line) for line in path.read_text().splitlines())
    assert value["value"].endswith(TRUNCATED)
    assert len(value["value"]) < 4096
    assert _depth(deep_event["metadata"]) == 8
    blob = large["metadata"]["blob"]
    assert blob.endswith(TRUNCATED)
    assert len(blob) < 4096
    assert large["metadata"]["…"] == TRUNCATED
    assert len(wide["metadata"]) < 1000
    assert wide["metadata"]["…"] == TRUNCATED


@dataclasses.dataclass
class Node:
    name: str
    children: list[Any]


def test_endless_iterators_and_shared_dataclasses_are_cut(tmp_path: Path) -> None:
    node = Node("leaf", [])
    for _ in range(40):
        node = Node("n", [node, node])
    path = tmp_path / "events.jsonl"
    fp = _jsonl(path, max_event_bytes=4096)
    fp.log_event(USER, "endless", metadata={"count": itertools.count()})
    fp.log_event(USER, "tree", metadata={"node": node})
    fp.shutdown(timeout=30)
    counts = fp.stats()["events"]["jsonl"]
    assert (counts["delivered"], counts["truncated"]) == (2, 2)
    endless, tree = (json.loads(line) for line in path.read_text().splitlines())
    assert endless["metadata"]["count"][:3] == [0, 1, 2]
    assert endless["metadata"]["count"][-1] == TRUNCATED
    assert tree["metadata"]["node"]["name"] == "n"
    assert _depth(tree["metadata"]) <= 20


def test_observers_and_model_sinks_see_the_cut_event() -> None:
    received: list[Event] = []
    loop: dict[str, Any] = {}
    loop["self"] = loop
    user = User(user_id="1", custom={"loop": loop}, private={"loop": loop})
    with Flagport(provider="passall", events={"sinks": [received.append]}) as fp:
        fp.log_event(user, "e", metadata={"loop": loop})
    (event,) = received
    assert event.metadata == {"loop": {"self": TRUNCATED}}
    assert event.user.custom == {"loop": {"self": TRUNCATED}}
    assert event.user.private == {"loop": {"self": TRUNCATED}}
    assert event.user.user_id == "1"
    assert json.loads(event.model_dump_json())["user"]["custom"] == {"loop": {"self": TRUNCATED}}


def test_values_within_the_bounds_are_kept_as_they_are() -> None:
    from flagport.events import bounds as module

    assert module.TRUNCATED == TRUNCATED
    bounds = module.EventBounds(max_depth=20, max_bytes=65_536)
    shared = {"x": 1}
    metadata = {"a": shared, "b": [shared, (1, 2.5, None, True)], 3: {"ok"}}
    copied, _, truncated = bounds.value(metadata)
    assert not truncated
    assert copied == {"a": {"x": 1}, "b": [{"x": 1}, (1, 2.5, None, True)], "3": ["ok"]}
    flat = {"sku": "A1", "n": 2}
    assert bounds.value(flat)[0] is flat  # the common case is not copied
    assert bounds.value("purchase") == ("purchase", 10, False)  # nor a short string
    user = User(user_id="1", custom={"plan": "pro"})
    assert bounds.user(user)[0] is user


def test_an_events_size_does_not_depend_on_whether_its_user_was_measured_before() -> None:
    # The size the queues count is estimated in one place: before, a first event (its
    # user not yet measured) and the same event again were measured by two copies of
    # the checks, 4 bytes apart.
    from flagport.events.pipeline import EventPipeline
    from flagport.events.settings import EventSettings

    pipeline = EventPipeline(EventSettings(sinks=[]), provider=lambda: None)  # type: ignore[arg-type,return-value]
    user = User(user_id="1", custom={"plan": "pro"})
    record = (1.0, EventKind.CUSTOM, user, "search", "shoes", {"q": "x"}, "p", None, None, None)
    first, second = pipeline.prepare(record), pipeline.prepare(record)
    assert first == second
    assert second[0] is record  # nothing to cut or copy: the record itself


def test_queues_are_bounded_in_bytes_and_count_what_they_drop() -> None:
    events = {
        "sinks": [lambda event: None],
        "max_queue_bytes": 1_000_000,
        "batch_size": 100_000,  # never reached: the worker leaves the queue alone
        "flush_interval": 60,
    }
    with Flagport(provider="passall", events=events) as fp:
        for i in range(1000):
            fp.log_event(USER, "big", i, {"payload": f"{i:05d}" * 2000})  # 10 KB each
        counts = next(iter(fp.stats()["events"].values()))
        assert counts["accepted"] == 1000
        assert counts["queued_bytes"] <= 1_000_000
        assert 90 <= counts["queued"] <= 100
        assert counts["dropped"] == 1000 - counts["queued"]
        assert fp.flush(timeout=30)
        counts = next(iter(fp.stats()["events"].values()))
    assert counts["queued_bytes"] == 0
    assert counts["delivered"] == 1000 - counts["dropped"]


def test_a_stalled_sink_cannot_hold_a_gigabyte_of_events(tmp_path: Path) -> None:
    # 100,000 events of 10 KB (each its own string) used to reach 1.1 GB queued; the
    # default byte bound keeps them within an address space of 1 GB.
    code = textwrap.dedent(
        """
        import os, resource, threading
        resource.setrlimit(resource.RLIMIT_AS, (1024 * 2**20, 1024 * 2**20))
        from flagport import Flagport, User

        release = threading.Event()
        fp = Flagport(provider="passall", events={"sinks": [lambda e: release.wait()],
                                                  "batch_size": 1000})
        user = User(user_id="1")
        for i in range(100_000):
            fp.log_event(user, "big", i, {"payload": os.urandom(5000).hex()})
        counts = next(iter(fp.stats()["events"].values()))
        release.set()
        print(counts["accepted"], counts["dropped"], counts["queued_bytes"])
        """
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=300, check=False
    )
    assert done.returncode == 0, done.stderr[-2000:]
    accepted, dropped, held = map(int, done.stdout.split())
    assert accepted == 100_000
    assert dropped > 90_000
    assert held <= 64 * 1024 * 1024
