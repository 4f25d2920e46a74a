"""Fork safety with real forks, the way gunicorn and celery prefork workers start."""

from __future__ import annotations

import copy
import multiprocessing
import os
import time
from typing import Any

import pytest

from flagport import Flagport, User
from flagport_growthbook.testing import GrowthBookLoopback

WORKERS = 4
USER = User(user_id="fork-user", country="US", custom={"plan": "pro"})


def _worker(fp: Flagport, results: Any) -> None:
    try:
        pid = os.getpid()
        gate = fp.check_gate(USER, "new_checkout")
        stats = fp.provider.stats()
        deadline = time.monotonic() + 10
        while not fp.provider.stats().get("streaming_active") and time.monotonic() < deadline:
            time.sleep(0.02)
        results.put(("ready", pid, gate, stats.get("features")))
        discount = fp.get_config(USER, "pricing").get("discount", 0.0)
        while discount != 0.25 and time.monotonic() < deadline:
            time.sleep(0.02)
            discount = fp.get_config(USER, "pricing").get("discount", 0.0)
        fp.log_event(USER, "worker_done", 1.0, {"pid": pid})
        fp.shutdown(timeout=5)
        results.put(("done", pid, discount, None))
    except BaseException as exc:  # report, do not hang the parent
        results.put(("error", os.getpid(), repr(exc), None))


@pytest.mark.timeout(60)
def test_forked_workers_evaluate_see_changes_and_deliver_events(
    server: GrowthBookLoopback, payload: dict[str, Any]
) -> None:
    fp = Flagport(
        provider="growthbook",
        **server.options(streaming=True, refresh_interval=0, events_flush_interval=0.1),
    )
    assert fp.check_gate(USER, "new_checkout") is True
    assert server.wait_for_streams(1)
    ctx = multiprocessing.get_context("fork")
    results = ctx.Queue()
    workers = [ctx.Process(target=_worker, args=(fp, results)) for _ in range(WORKERS)]
    for w in workers:
        w.start()
    try:
        ready = [results.get(timeout=20) for _ in range(WORKERS)]
        assert [r[0] for r in ready] == ["ready"] * WORKERS, ready
        # Each worker evaluated with its own provider, loaded in the worker itself.
        assert all(r[2] is True and r[3] == 3 for r in ready), ready
        assert server.wait_for_streams(1 + WORKERS, timeout=10)

        changed = copy.deepcopy(payload)
        changed["features"]["pricing"]["rules"][0]["force"] = {"discount": 0.25}
        server.push(changed)

        done = [results.get(timeout=20) for _ in range(WORKERS)]
        assert [d[0] for d in done] == ["done"] * WORKERS, done
        assert all(d[2] == 0.25 for d in done), done
    finally:
        for w in workers:
            w.join(timeout=10)
            if w.is_alive():
                w.kill()
                w.join(timeout=5)
    assert [w.exitcode for w in workers] == [0] * WORKERS

    # The parent is unaffected: it sees the change and still delivers its events.
    deadline = time.monotonic() + 5
    while fp.get_config(USER, "pricing").get("discount", 0.0) != 0.25:
        assert time.monotonic() < deadline
        time.sleep(0.02)
    fp.log_event(USER, "parent_done", 1.0, {"pid": os.getpid()})
    fp.shutdown(timeout=5)

    rows = server.wait_for_events(lambda r: r["event_name"].endswith("_done"), count=WORKERS + 1)
    pids = sorted(r["properties_json"]["pid"] for r in rows)
    assert pids == sorted([w.pid or 0 for w in workers] + [os.getpid()])
