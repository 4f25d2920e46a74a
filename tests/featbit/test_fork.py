"""Fork safety with real forks, as gunicorn and celery prefork do (issue 5).

The parent builds a Flagport client over the featbit provider, evaluates (so FeatBit's
threads and websocket are running), then forks workers. Each worker gets a fresh
provider from the client's fork hook, evaluates, sees a change the server pushes after
the fork, logs an event and shuts down; every event reaches the server.
"""

from __future__ import annotations

import multiprocessing
import os
import queue
from typing import Any

import pytest

from flagport import Flagport, ProviderNotReadyError, User
from flagport_featbit.testing import FeatBitLoopback, variation

pytestmark = pytest.mark.timeout(90)

WORKERS = 4
PRO = {"plan": "pro"}


def _worker(
    client: Flagport, index: int, ready: Any, go: Any, results: Any
) -> None:  # runs in the forked child
    user = User(user_id=f"worker-{index}", country="US", custom=PRO)
    first = client.get_config(user, "pricing")
    results.put(("ready", index, os.getpid(), first.get("discount", -1.0), first.error_code))
    ready.release()
    if not go.wait(30):
        results.put(("error", index, "no go signal"))
        return
    seen = None
    deadline = 200
    while deadline:
        seen = client.get_config(user, "pricing").get("discount", -1.0)
        if seen == 0.5:
            break
        go.wait(0.05)
        deadline -= 1
    gate = client.check_gate(user, "new_checkout")
    client.log_event(user, "worker_done", index, {"pid": os.getpid()})
    client.shutdown(timeout=10)
    results.put(("done", index, os.getpid(), seen, gate))


def test_forked_workers_get_updates_and_deliver_events() -> None:
    context = multiprocessing.get_context("fork")
    with FeatBitLoopback() as server:
        client = Flagport(provider="featbit", **server.provider_options(connect_timeout=1.0))
        parent_user = User(user_id="parent", country="US", custom=PRO)
        assert client.get_config(parent_user, "pricing").value == {"discount": 0.1}
        client.log_event(parent_user, "before_fork", 1)

        ready, go, results = context.Semaphore(0), context.Event(), context.Queue()
        workers = [
            context.Process(target=_worker, args=(client, i, ready, go, results), daemon=True)
            for i in range(WORKERS)
        ]
        for worker in workers:
            worker.start()
        try:
            for _ in workers:
                assert ready.acquire(timeout=30), "a worker did not start its provider"
            # Every worker has its own FeatBit connection before the change is pushed.
            assert server.wait_for(lambda: server.connections >= WORKERS + 1)
            server.update_flag(
                "pricing",
                variations=[
                    variation("pro", {"discount": 0.5}),
                    variation("standard", {"discount": 0}),
                ],
            )
            go.set()
            for worker in workers:
                worker.join(timeout=45)
            assert [w.exitcode for w in workers] == [0] * WORKERS
        finally:
            for worker in workers:
                if worker.is_alive():
                    worker.kill()
                    worker.join(5)

        messages: list[tuple[Any, ...]] = []
        while True:
            try:
                messages.append(results.get(timeout=1))
            except queue.Empty:
                break
        ready_msgs = sorted(m for m in messages if m[0] == "ready")
        done_msgs = sorted(m for m in messages if m[0] == "done")
        assert [m[3:] for m in ready_msgs] == [(0.1, None)] * WORKERS
        assert [(m[3], m[4]) for m in done_msgs] == [(0.5, True)] * WORKERS
        pids = {m[2] for m in done_msgs}
        assert len(pids) == WORKERS
        assert os.getpid() not in pids

        # The parent keeps working after the fork and sees the change too.
        assert server.wait_for(
            lambda: client.get_config(parent_user, "pricing").get("discount") == 0.5
        )
        client.log_event(parent_user, "after_fork", 2)
        client.shutdown(timeout=10)

        worker_events = server.metrics("worker_done")
        assert sorted(e["user"]["keyId"] for e in worker_events) == [
            f"worker-{i}" for i in range(WORKERS)
        ]
        assert sorted(e["numericValue"] for e in worker_events) == [
            float(i) for i in range(WORKERS)
        ]
        assert {e["numericValue"] for e in server.metrics("worker_done.pid")} == {
            float(p) for p in pids
        }
        assert [e["user"]["keyId"] for e in server.metrics("before_fork")] == ["parent"]
        assert [e["user"]["keyId"] for e in server.metrics("after_fork")] == ["parent"]


def test_inherited_provider_shutdown_in_a_child_does_not_hang() -> None:
    """Used without the client, a provider inherited through fork() fails clearly (it
    would otherwise serve without updates or events) and its shutdown must not call the
    parent's FBClient.stop(), which waits forever for threads the child does not have."""
    from flagport_featbit import FeatBitProvider

    context = multiprocessing.get_context("fork")
    with FeatBitLoopback() as server:
        provider = FeatBitProvider.from_options(**server.provider_options(connect_timeout=1.0))
        provider.start()
        assert provider.check_gate(User(user_id="p", country="US"), "new_checkout") is True

        def child() -> None:
            code = 2
            try:
                provider.check_gate(User(user_id="c", country="US"), "new_checkout")
            except ProviderNotReadyError as exc:
                code = 0 if "fork()" in str(exc) else 3
            provider.shutdown(timeout=30)
            os._exit(code if provider.status.value == "SHUT_DOWN" else 1)

        worker = context.Process(target=child, daemon=True)
        worker.start()
        worker.join(timeout=20)
        alive = worker.is_alive()
        if alive:
            worker.kill()
            worker.join(5)
        assert not alive
        assert worker.exitcode == 0
        # The parent's own client is untouched by the child's shutdown.
        assert provider.check_gate(User(user_id="p", country="US"), "new_checkout") is True
        provider.shutdown(timeout=5)
