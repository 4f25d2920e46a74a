"""Fork safety with real forks, as gunicorn and celery prefork workers do it."""

from __future__ import annotations

import multiprocessing
import os
import time
from typing import Any

import pytest

from flagport import Flagport, ProviderNotReadyError, User
from flagport_statsig.testing import StatsigLoopbackServer, scenario_specs

WORKERS = 4


def _worker(fp: Flagport, index: int, ready: Any, pushed: Any, results: Any) -> None:
    user = User(user_id=f"worker-{index}", custom={"plan": "pro"})
    report: dict[str, Any] = {"index": index, "pid": os.getpid()}
    try:
        report["gate"] = fp.check_gate(User(user_id="u", country="US"), "new_checkout")
        report["before"] = fp.get_config(user, "pricing").get("discount", -1.0)
        ready.put(index)
        pushed.wait(20)
        seen = report["before"]
        for _ in range(150):
            seen = fp.get_config(user, "pricing").get("discount", -1.0)
            if seen == 0.25:
                break
            time.sleep(0.1)
        report["after"] = seen
        fp.log_event(user, "worker_done", float(index), {"pid": os.getpid()})
        fp.shutdown(timeout=5)
    except Exception as exc:  # reported to the parent, which fails the test
        report["error"] = repr(exc)
    results.put(report)


@pytest.mark.timeout(90)
def test_forked_workers_evaluate_see_updates_and_deliver_events() -> None:
    ctx = multiprocessing.get_context("fork")
    with StatsigLoopbackServer(scenario_specs()) as server:
        fp = Flagport(provider="statsig", strict=True, **server.provider_options())
        parent_user = User(user_id="parent", custom={"plan": "pro"})
        assert fp.get_config(parent_user, "pricing").get("discount", 0.0) == 0.1
        fp.log_event(parent_user, "parent_before_fork", 1.0)
        fp.flush()

        ready, results, pushed = ctx.Queue(), ctx.Queue(), ctx.Event()
        workers = [
            ctx.Process(target=_worker, args=(fp, i, ready, pushed, results), daemon=True)
            for i in range(WORKERS)
        ]
        for w in workers:
            w.start()
        started = sorted(ready.get(timeout=30) for _ in workers)
        assert started == list(range(WORKERS))

        new = scenario_specs()
        new["dynamic_configs"]["pricing"]["rules"][0]["returnValue"] = {"discount": 0.25}
        server.push_specs(new)
        pushed.set()

        reports = [results.get(timeout=40) for _ in workers]
        for w in workers:
            w.join(timeout=20)
            assert not w.is_alive(), "a forked worker hung"
            assert w.exitcode == 0

        # the parent keeps working after the forks
        fp.log_event(parent_user, "parent_after_fork", 2.0)
        parent_after = 0.1
        for _ in range(150):
            parent_after = fp.get_config(parent_user, "pricing").get("discount", 0.0)
            if parent_after == 0.25:
                break
            time.sleep(0.1)
        fp.shutdown()

        for report in reports:
            assert "error" not in report, report
            assert report["gate"] is True
            assert (report["before"], report["after"]) == (0.1, 0.25)
        assert len({r["pid"] for r in reports}) == WORKERS
        assert parent_after == 0.25

        done = server.custom_events("worker_done")
        assert sorted(e["value"] for e in done) == [float(i) for i in range(WORKERS)]
        assert sorted(e["metadata"]["pid"] for e in done) == sorted(r["pid"] for r in reports)
        assert len(server.custom_events("parent_before_fork")) == 1
        assert len(server.custom_events("parent_after_fork")) == 1


@pytest.mark.timeout(60)
def test_a_provider_used_alone_forgets_an_inherited_sdk_and_starts_its_own() -> None:
    """Without the client, a provider inherited through fork() never calls the parent's
    SDK (its threads are gone): it is not ready until started, then has its own."""
    from flagport_statsig import StatsigProvider

    ctx = multiprocessing.get_context("fork")
    us = User(user_id="u", country="US")
    with StatsigLoopbackServer(scenario_specs()) as server:
        provider = StatsigProvider.from_options(**server.provider_options())
        provider.start()
        assert provider.check_gate(us, "new_checkout") is True
        results = ctx.Queue()

        def child() -> None:
            try:
                provider.flush(timeout=5)  # nothing of the parent's to flush
                try:
                    provider.check_gate(us, "new_checkout")
                    results.put("served through the parent's SDK")
                except ProviderNotReadyError:
                    provider.start()
                    results.put(provider.check_gate(us, "new_checkout"))
                provider.shutdown(timeout=5)
            except Exception as exc:
                results.put(repr(exc))

        worker = ctx.Process(target=child, daemon=True)
        worker.start()
        assert results.get(timeout=30) is True
        worker.join(timeout=20)
        assert worker.exitcode == 0
        assert provider.check_gate(us, "new_checkout") is True  # the parent's is untouched
        provider.shutdown(timeout=5)
