"""A migration provider started again after shutdown keeps house and compares again: its
housekeeping thread and comparison worker belong to one run, and the next run has its own."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from pathlib import Path

from flagport import User
from flagport.providers.migration import Stage
from flagport.providers.migration.comparator import OffloadComparator

from .test_comparator import Recorder, submit
from .test_provider import provider

USER = User(user_id="1", country="US")


def _eventually(check: Callable[[], bool], timeout: float = 5.0) -> bool:
    deadline = time.monotonic() + timeout
    while not check() and time.monotonic() < deadline:
        time.sleep(0.02)
    return check()


def _threads(name: str) -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name == name]


def test_a_restarted_migration_reads_its_control_file_again(tmp_path: Path) -> None:
    control = tmp_path / "migration.toml"
    control.write_text('[stages]\neveryone = "shadow"\n')
    p = provider("from", control_file=str(control), control_poll_s=0.05)
    p.start()
    assert p.stage_of("everyone") is Stage.SHADOW
    p.shutdown(2)
    assert _eventually(lambda: not _threads("flagport-migration"))
    p.start()
    try:
        assert len(_threads("flagport-migration")) == 1
        control.write_text('[stages]\neveryone = "live"\n')
        assert _eventually(lambda: p.stage_of("everyone") is Stage.LIVE)
    finally:
        p.shutdown(2)
    assert _eventually(lambda: not _threads("flagport-migration"))


def test_a_restarted_migration_compares_on_its_worker_again() -> None:
    p = provider("shadow", compare_on="worker")
    p.start()
    assert p.check_gate(USER, "everyone") is True
    assert p.drain(5)
    p.shutdown(2)
    p.start()
    try:
        assert p.check_gate(USER, "everyone") is True
        assert p.drain(5)
        assert p.comparator.stats()["compared"] == 2
        assert p.new.calls == 2  # the secondary answered in each run
    finally:
        p.shutdown(2)
    assert _eventually(lambda: not _threads("flagport-migration-compare"))


def test_a_worker_of_the_last_run_stops_after_its_comparison() -> None:
    record = Recorder()
    record.block.set()
    worker = OffloadComparator(record)
    submit(worker, "first")
    assert record.entered.wait(5)
    worker.stop(0.05)  # the worker is stuck in "first": stop does not wait for it
    worker.start()
    record.block.clear()
    submit(worker, "second")  # this run's worker compares it meanwhile
    assert _eventually(lambda: len(record.seen) == 2)
    assert len(_threads("flagport-migration-compare")) == 2
    record.release.set()  # the last run's worker returns, and ends
    assert worker.drain(5)
    assert _eventually(lambda: len(_threads("flagport-migration-compare")) == 1)
    worker.stop(2)
    assert _eventually(lambda: not _threads("flagport-migration-compare"))
    assert [name for name, _ in record.seen] == ["first", "second"]


def test_a_stop_while_the_worker_lingers_ends_it() -> None:
    worker = OffloadComparator(Recorder())
    submit(worker)
    assert worker.drain(5)  # the worker lingers now, for a batch to gather
    worker.stop(1)
    assert _eventually(lambda: not _threads("flagport-migration-compare"))
