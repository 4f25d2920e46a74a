"""Fork safety for the built-in providers, the way prefork servers use them.

The parent builds the client, evaluates, then forks four workers
(``multiprocessing`` with the fork start method, as gunicorn, uwsgi and Celery do).
Each worker evaluates, sees a definition change made after the fork (``local``),
logs an event and shuts down; every event of every process must arrive, and nothing
may hang.
"""

from __future__ import annotations

import gc
import json
import multiprocessing
import os
import time
import weakref
from collections.abc import Callable
from pathlib import Path
from typing import Any

from forking import child_exit_code  # tests/support

from flagport import Flagport, User, _fork
from flagport.providers.local import watcher as watcher_module
from flagport.providers.local.watcher import FileWatcher

WORKERS = 4
OFF = "gates:\n  switch:\n    rules:\n      - {id: nobody, when: {country: XX}}\n"
ON = "gates:\n  switch:\n    rules:\n      - {id: everyone}\n"


def _worker(fp: Flagport, index: int, ready: Any, changed: Any, results: Any) -> None:
    user = User(user_id=f"worker-{index}")
    before = fp.check_gate(user, "switch")
    ready.release()
    changed.wait(20)
    deadline = time.monotonic() + 10
    after = fp.check_gate(user, "switch")
    while not after and time.monotonic() < deadline:
        time.sleep(0.05)
        after = fp.check_gate(user, "switch")
    fp.log_event(user, "worker-done", index)
    fp.shutdown(timeout=10)
    results.put((index, before, after))


def _run_workers(fp: Flagport, change: Any) -> list[tuple[int, bool, bool]]:
    ctx = multiprocessing.get_context("fork")
    ready, changed, results = ctx.Semaphore(0), ctx.Event(), ctx.Queue()
    procs = [
        ctx.Process(target=_worker, args=(fp, i, ready, changed, results)) for i in range(WORKERS)
    ]
    for proc in procs:
        proc.start()
    for _ in procs:
        assert ready.acquire(timeout=20), "a worker did not start"
    change()
    changed.set()
    out = [results.get(timeout=30) for _ in procs]
    for proc in procs:
        proc.join(timeout=20)
        assert proc.exitcode == 0
    return sorted(out)


def _events(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text().splitlines()]


def test_local_workers_reload_and_deliver_every_event(tmp_path: Path) -> None:
    flags = tmp_path / "flags.yaml"
    flags.write_text(OFF)
    sink = tmp_path / "events.jsonl"
    fp = Flagport(
        provider="local",
        path=str(flags),
        events={"sinks": ["jsonl"], "jsonl_path": sink, "flush_interval": 0.2},
    )
    assert fp.check_gate(User(user_id="parent"), "switch") is False
    fp.log_event(User(user_id="parent"), "parent-before-fork")

    def change() -> None:
        flags.write_text(ON)

    results = _run_workers(fp, change)
    assert results == [(i, False, True) for i in range(WORKERS)]
    deadline = time.monotonic() + 10
    while not fp.check_gate(User(user_id="parent"), "switch") and time.monotonic() < deadline:
        time.sleep(0.05)
    assert fp.check_gate(User(user_id="parent"), "switch") is True
    fp.shutdown(timeout=10)
    names = sorted((e["name"], e["value"]) for e in _events(sink))
    assert names == [("parent-before-fork", None)] + [
        ("worker-done", float(i)) for i in range(WORKERS)
    ]


def test_passall_workers_deliver_every_event(tmp_path: Path) -> None:
    sink = tmp_path / "events.jsonl"
    fp = Flagport(provider="passall", events={"sinks": ["jsonl"], "jsonl_path": sink})
    assert fp.check_gate(User(user_id="parent"), "switch") is True
    fp.override_gate("switch", False)

    def change() -> None:
        return None  # passall has no definitions to change; overrides were copied at fork

    results = _run_workers(fp, change)
    assert results == [(i, False, False) for i in range(WORKERS)]
    fp.shutdown(timeout=10)
    assert sorted(e["value"] for e in _events(sink)) == [float(i) for i in range(WORKERS)]


# -- the one registry of what reacts to fork (flagport._fork) -----------------------------
class _Owner:
    def __init__(self) -> None:
        self.resets = 0

    def reset(self) -> None:
        self.resets += 1


def _in_a_forked_child(check: Callable[[], object]) -> Any:
    """``check()`` run in a forked child; its result (or its exception's repr)."""
    ctx = multiprocessing.get_context("fork")
    results = ctx.Queue()

    def child() -> None:
        try:
            results.put(check())
        except Exception as exc:
            results.put(repr(exc))

    proc = ctx.Process(target=child)
    proc.start()
    found = results.get(timeout=20)
    proc.join(timeout=20)
    assert proc.exitcode == 0
    return found


def test_registered_resets_run_in_the_child_once_each_and_a_failing_one_stops_none() -> None:
    owner, dropped = _Owner(), _Owner()

    def broken(_: object) -> None:
        raise RuntimeError("a reset that fails")

    _fork.reset_in_child(owner, broken)
    _fork.reset_in_child(owner, _Owner.reset)
    _fork.reset_in_child(owner, _Owner.reset)  # the same pair again: still once
    _fork.reset_in_child(dropped, _Owner.reset)
    witness = weakref.ref(dropped)
    del dropped
    gc.collect()
    assert witness() is None  # held weakly: registering kept nothing alive
    assert _in_a_forked_child(lambda: owner.resets) == 1
    assert owner.resets == 0  # the parent is untouched


def test_a_started_watcher_is_not_running_in_a_forked_child(tmp_path: Path) -> None:
    # No process ids: the parent's thread does not exist in the child, and a watcher's
    # state says so; stop() there returns at once.
    path = tmp_path / "flags.yaml"
    path.write_text(ON)
    watcher = FileWatcher(path, lambda: None, interval=0.05)
    watcher.start()
    try:

        def check() -> tuple[bool, bool]:
            running = watcher.running
            watcher.stop(timeout=30)
            return running, watcher_module._forked_from_a_watcher

        assert _in_a_forked_child(check) == (False, True)
        assert watcher.running
    finally:
        watcher.stop()


def test_only_flagport_fork_registers_a_fork_hook_and_nothing_compares_process_ids() -> None:
    # One place reacts to fork() (flagport._fork); the client rebuilds its provider and
    # resets its stores in the child, so no other module keeps a pid to compare.
    root = Path(__file__).resolve().parents[2]
    sources = [*root.glob("core/src/**/*.py"), *root.glob("providers/*/src/**/*.py")]
    sources += root.glob("contrib/*/src/**/*.py")
    hooks = [p for p in sources if "register_at_fork" in p.read_text() and p.name != "_fork.py"]
    pids = [p for p in sources if "_pid = os.getpid()" in p.read_text()]
    assert (hooks, pids) == ([], [])


def test_a_forked_child_shutting_its_client_down_leaves_the_parents_provider_alone(
    tmp_path: Path,
) -> None:
    # The child inherited the parent's provider and never rebuilt it: stopping it there
    # would act for the parent (here: the migration's summary written into its log).
    (tmp_path / "flags.yaml").write_text(ON)
    log = tmp_path / "mismatches.jsonl"
    sides = {"from": {"provider": "local", "path": str(tmp_path / "flags.yaml")}}
    options = {**sides, "to": {"provider": "passall"}, "mismatch_log": str(log)}
    with Flagport(provider="migration", **options) as fp:
        fp.check_gate(User(user_id="1"), "switch")
        pid = os.fork()
        if pid == 0:  # the child
            code = 1
            try:
                fp.shutdown(timeout=5)
                code = 0
            finally:
                os._exit(code)
        assert child_exit_code(pid) == 0
        assert _records(log) == []
    assert _records(log) == ["summary"]


def _records(log: Path) -> list[str]:
    """The types of the records in a mismatch log (none before it is written)."""
    lines = log.read_text().splitlines() if log.exists() else []
    return [json.loads(line)["type"] for line in lines]
