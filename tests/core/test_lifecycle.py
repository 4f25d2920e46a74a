"""Process exit and SIGTERM: real interpreters write events to a jsonl file, then end."""

from __future__ import annotations

import gc
import json
import signal
import subprocess
import sys
import textwrap
import threading
import time
import weakref
from pathlib import Path
from typing import Any

import pytest

import flagport
from flagport import Flagport, User

EVENTS = 50_000

# A client the application never shuts down, holding every event in its queue: the
# batch is larger than the events and the interval long, so nothing is delivered
# before the process ends.
PRELUDE = """
import flagport, signal, sys, threading
from flagport import Flagport, User

fp = Flagport(
    provider="passall",
    events={{
        "sinks": ["jsonl"],
        "jsonl_path": sys.argv[1],
        "batch_size": 100_000,
        "flush_interval": 3600,
    }},
)
user = User(user_id="1")
{setup}
for i in range({events}):
    fp.log_event(user, "tick", i)
"""

WAIT_FOR_SIGNAL = """
print("ready", flush=True)
threading.Event().wait(600)
print("not killed", flush=True)
"""


def _script(setup: str = "", tail: str = "", events: int = EVENTS) -> str:
    return textwrap.dedent(PRELUDE.format(setup=setup, events=events)) + textwrap.dedent(tail)


def _lines(path: Path) -> int:
    if not path.exists():
        return 0
    with path.open("rb") as fh:
        return sum(1 for _ in fh)


def _run(code: str, path: Path) -> subprocess.CompletedProcess[str]:
    """Run ``code`` with ``path`` as its argument to the end (the timeout guards a hang)."""
    return subprocess.run(
        [sys.executable, "-c", code, str(path)],
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )


def _run_until_signal(code: str, path: Path) -> tuple[int, str]:
    """Run ``code``, send SIGTERM once it printed "ready"; its exit code and output."""
    process = subprocess.Popen(
        [sys.executable, "-c", code, str(path)],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    assert process.stdout is not None
    first = process.stdout.readline()
    assert first == "ready\n", first + process.stdout.read()
    process.send_signal(signal.SIGTERM)
    output = process.stdout.read()
    return process.wait(timeout=180), output


def test_a_client_never_shut_down_delivers_everything_at_normal_exit(tmp_path: Path) -> None:
    path = tmp_path / "events.jsonl"
    done = _run(_script(), path)
    assert done.returncode == 0, done.stderr
    assert _lines(path) == EVENTS


def test_every_live_client_is_flushed_at_exit_not_only_the_process_wide_one(
    tmp_path: Path,
) -> None:
    path = tmp_path / "events.jsonl"
    second = tmp_path / "second.jsonl"
    setup = f"""
flagport.setup(provider="passall", events={{"sinks": ["jsonl"], "jsonl_path": {str(second)!r},
               "batch_size": 100_000, "flush_interval": 3600}})
for i in range(1000):
    flagport.log_event(user, "global", i)
"""
    done = _run(_script(setup=setup), path)
    assert done.returncode == 0, done.stderr
    assert (_lines(path), _lines(second)) == (EVENTS, 1000)


def test_a_client_dropped_without_shutdown_delivers_everything_at_exit(tmp_path: Path) -> None:
    # The application lets go of the client: it is collected with its events queued.
    path = tmp_path / "events.jsonl"
    tail = """
import gc, weakref
alive = weakref.ref(fp)
del fp
gc.collect()
print("collected" if alive() is None else "alive", flush=True)
"""
    done = _run(_script(tail=tail), path)
    assert done.returncode == 0, done.stderr
    assert done.stdout == "collected\n"
    assert _lines(path) == EVENTS


def _dropped_jsonl_clients(
    paths: list[Path], events: int
) -> tuple[list[weakref.ref[Any]], list[Any]]:
    """Weak references to clients (one per path) that each logged ``events`` and were
    dropped, and to their event workers; and the workers' threads."""
    refs: list[weakref.ref[Any]] = []
    threads: list[Any] = []
    for path in paths:
        client = Flagport(
            provider="passall",
            events={
                "sinks": ["jsonl"],
                "jsonl_path": path,
                "batch_size": 10_000,
                "flush_interval": 3600,
            },
        )
        for i in range(events):
            client.log_event(User(user_id=str(i)), "tick", i)
        threads += [worker.thread for worker in client.events.workers]
        refs.append(weakref.ref(client))
        refs += [weakref.ref(worker) for worker in client.events.workers]
        del client
    gc.collect()  # once: a collection walks the whole heap of the test session
    return refs, threads


def _join(threads: list[Any]) -> list[Any]:
    """The threads still alive after waiting for them; the wait only guards a hang
    (before, no thread of a dropped client ever ended)."""
    guard = time.monotonic() + 60
    for thread in threads:
        thread.join(timeout=max(0.0, guard - time.monotonic()))
    return [thread for thread in threads if thread.is_alive()]


def test_a_dropped_client_delivers_and_ends_its_threads_when_collected(tmp_path: Path) -> None:
    path = tmp_path / "events.jsonl"
    (client, *_), threads = _dropped_jsonl_clients([path], 500)
    assert client() is None
    # Without an exit: the collection itself sets the workers delivering and ending.
    assert _join(threads) == []
    assert _lines(path) == 500


def test_dropping_many_clients_leaks_neither_clients_nor_threads(tmp_path: Path) -> None:
    paths = [tmp_path / f"{n}.jsonl" for n in range(50)]
    refs, threads = _dropped_jsonl_clients(paths, 3)
    assert _join(threads) == []
    assert [_lines(path) for path in paths] == [3] * 50
    # Once its thread ended, nothing holds a client or a worker (nor its queue) any more.
    gc.collect()
    assert [ref for ref in refs if ref() is not None] == []


def test_a_shut_down_client_leaves_the_live_clients_at_once_while_still_referenced() -> None:
    from flagport import _lifecycle as lifecycle

    kept, closed = Flagport(provider="passall"), Flagport(provider="passall")
    assert {id(c) for c in lifecycle.live_clients()} >= {id(kept), id(closed)}
    closed.shutdown()
    # Still referenced here, so no garbage collection could have removed it: the exit,
    # a fork and the telemetry that read live_clients() must not see a closed client.
    live = [id(c) for c in lifecycle.live_clients()]
    assert id(closed) not in live
    assert id(kept) in live
    closed.shutdown()  # a second shutdown is harmless
    kept.shutdown()
    assert id(kept) not in [id(c) for c in lifecycle.live_clients()]


def test_sigterm_while_the_main_thread_registers_a_client_does_not_deadlock() -> None:
    # The handler (flush_all) runs between two bytecodes of the main thread, which may
    # hold the registry's lock then: creating or shutting down a client.
    code = """
import flagport
from flagport import _lifecycle
fp = flagport.Flagport(provider="passall")
with _lifecycle._lock:
    _lifecycle.flush_all()
print("flushed", [c is fp for c in _lifecycle.live_clients()])
"""
    try:
        done = subprocess.run(
            [sys.executable, "-c", code], capture_output=True, text=True, timeout=120
        )
    except subprocess.TimeoutExpired:
        pytest.fail("flush_all deadlocked on the registry's lock held by the same thread")
    assert done.returncode == 0, done.stderr
    assert "flushed [True]" in done.stdout


def test_the_exit_waits_for_a_stalled_sink_no_longer_than_its_shutdown_timeout() -> None:
    code = """
import threading
from flagport import Flagport, User

def stalled(event):
    threading.Event().wait()  # never returns

fp = Flagport(provider="passall", events={"sinks": [stalled], "shutdown_timeout": 0.2})
fp.log_event(User(user_id="1"), "tick")
print("exiting", flush=True)
"""
    # Without the bound the exit would wait forever; the subprocess timeout is the guard.
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=False
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout == "exiting\n"
    assert "did not take 1 events before shutdown" in done.stderr


def test_sigterm_flushes_then_ends_the_process_by_the_signal(tmp_path: Path) -> None:
    path = tmp_path / "events.jsonl"
    code = _script(setup="flagport.install_signal_handlers()", tail=WAIT_FOR_SIGNAL)
    returncode, output = _run_until_signal(code, path)
    assert returncode == -signal.SIGTERM, output
    assert "not killed" not in output
    assert _lines(path) == EVENTS


def test_sigterm_flushes_then_calls_the_handler_it_replaced(tmp_path: Path) -> None:
    path = tmp_path / "events.jsonl"
    setup = """
def graceful(signum, frame):
    print("previous handler ran with", signum, flush=True)
    sys.exit(3)

signal.signal(signal.SIGTERM, graceful)
flagport.install_signal_handlers()
flagport.install_signal_handlers()  # twice is harmless: still one flush, one previous
"""
    returncode, output = _run_until_signal(_script(setup=setup, tail=WAIT_FOR_SIGNAL), path)
    assert returncode == 3, output
    assert output.count("previous handler ran with") == 1
    # The previous handler exits, so the exit hook runs after the signal's flush too:
    # still every event exactly once.
    assert _lines(path) == EVENTS
    names = {json.loads(line)["name"] for line in path.read_text().splitlines()}
    assert names == {"tick"}


def test_sigterm_ignored_by_the_application_stays_ignored(tmp_path: Path) -> None:
    path = tmp_path / "events.jsonl"
    setup = """
signal.signal(signal.SIGTERM, signal.SIG_IGN)
flagport.install_signal_handlers()
"""
    # raise_signal runs the handler before it returns: the flush is done by then.
    tail = """
signal.raise_signal(signal.SIGTERM)
print("alive after", fp.stats()["events"]["jsonl"]["delivered"], flush=True)
"""
    done = _run(_script(setup=setup, tail=tail), path)
    assert done.returncode == 0, done.stderr
    assert f"alive after {EVENTS}" in done.stdout


def test_install_signal_handlers_outside_the_main_thread_is_a_clear_error() -> None:
    from flagport import _lifecycle as lifecycle

    errors: list[BaseException] = []

    def install() -> None:
        try:
            flagport.install_signal_handlers()
        except ValueError as exc:
            errors.append(exc)

    thread = threading.Thread(target=install)
    thread.start()
    thread.join()
    assert [type(e) for e in errors] == [ValueError]
    assert "main thread" in str(errors[0])
    assert signal.getsignal(signal.SIGTERM) is not lifecycle._on_signal
