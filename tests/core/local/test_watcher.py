"""``FileWatcher``: one daemon thread noticing changes to one file."""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from flagport.providers.local.watcher import FileWatcher, file_signature

Waiter = Callable[..., bool]  # the conftest's wait_for fixture


class Counter:
    def __init__(self) -> None:
        self.calls = 0
        self.lock = threading.Lock()

    def __call__(self) -> None:
        with self.lock:
            self.calls += 1


@pytest.fixture
def target(tmp_path: Path) -> Path:
    path = tmp_path / "flags.yaml"
    path.write_text("a: 1\n")
    return path


@pytest.fixture
def counter() -> Counter:
    return Counter()


@pytest.fixture
def watcher(target: Path, counter: Counter) -> Iterator[FileWatcher]:
    w = FileWatcher(target, counter, interval=0.1)
    w.start(file_signature(target))
    yield w
    w.stop()


def test_change_calls_back_and_untouched_file_does_not(
    target: Path, counter: Counter, watcher: FileWatcher, wait_for: Waiter
) -> None:
    time.sleep(0.3)
    assert counter.calls == 0
    target.write_text("a: 2\n")
    assert wait_for(lambda: counter.calls >= 1)


def test_other_files_in_the_directory_are_ignored(
    target: Path, counter: Counter, watcher: FileWatcher
) -> None:
    (target.parent / "other.yaml").write_text("x")
    time.sleep(0.4)
    assert counter.calls == 0


def test_deleted_file_is_not_reported_until_it_returns(
    target: Path, counter: Counter, watcher: FileWatcher, wait_for: Waiter
) -> None:
    target.unlink()
    time.sleep(0.4)
    assert counter.calls == 0
    target.write_text("a: 3\n")
    assert wait_for(lambda: counter.calls >= 1)


def test_rename_over_the_file_is_reported(
    target: Path, counter: Counter, watcher: FileWatcher, wait_for: Waiter
) -> None:
    new = target.with_name("new.yaml")
    new.write_text("a: 4\n")
    os.replace(new, target)
    assert wait_for(lambda: counter.calls >= 1)


def test_failing_callback_is_logged_and_watching_goes_on(
    target: Path, caplog: pytest.LogCaptureFixture, wait_for: Waiter
) -> None:
    calls: list[int] = []

    def explode() -> None:
        calls.append(1)
        raise RuntimeError("boom")

    w = FileWatcher(target, explode, interval=0.1)
    w.start()
    try:
        target.write_text("a: 5\n")
        assert wait_for(lambda: len(calls) >= 1)
        assert wait_for(
            lambda: any(r.exc_info and "reloading" in r.getMessage() for r in caplog.records)
        )
        time.sleep(0.1)
        target.write_text("a: 6 and longer\n")
        assert wait_for(lambda: len(calls) >= 2)
        assert w.running
    finally:
        w.stop()


def test_polling_alone_notices_changes(target: Path, counter: Counter, wait_for: Waiter) -> None:
    # Where file-system events never arrive, the stat check every interval still works.
    w = FileWatcher(target, counter, interval=0.05)
    w._seen = file_signature(target)
    thread = threading.Thread(target=w._poll, daemon=True)
    thread.start()
    try:
        target.write_text("a: 7 polled\n")
        assert wait_for(lambda: counter.calls >= 1)
    finally:
        w._stop.set()
        thread.join(5)
    assert not thread.is_alive()


def test_stop_ends_the_thread_promptly(target: Path, counter: Counter) -> None:
    w = FileWatcher(target, counter, interval=0.5)
    w.start()
    thread = w._thread
    assert thread is not None
    assert thread.daemon
    w.stop(timeout=5)
    assert not thread.is_alive()
    assert not w.running
