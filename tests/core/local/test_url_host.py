"""One poller per host: 32 worker processes sharing a ``cache_path`` make the requests of
one, every worker serves each new version, and when the poller dies another takes over.

Real processes (``multiprocessing``, forked) against the steerable test server, which
records the ``X-Worker`` header (the worker's pid) of every request.
"""

from __future__ import annotations

import os
import signal
from collections.abc import Callable
from pathlib import Path

import pytest
from flag_server import FlagServer  # tests/support
from url_workers import Workers, flags  # tests/support

from flagport import Flagport, User

WORKERS = 32
Waiter = Callable[..., bool]


@pytest.mark.timeout(600)  # 32 processes on a shared machine: bounded, not timed
def test_32_workers_make_the_requests_of_one_and_survive_the_poller(
    server: FlagServer, tmp_path: Path, wait_for: Waiter
) -> None:
    cache = str(tmp_path / "cache" / "flags.yaml")
    workers = Workers(WORKERS, server.url(), cache, interval=0.2)
    workers.start()
    try:
        workers.collect(workers.all_serve(1))
        # Every request so far came from one process: the poller.
        assert wait_for(lambda: server.statuses().count(304) >= 3)
        pollers = {pid for pid in server.workers() if pid is not None}
        assert len(pollers) == 1
        (poller,) = pollers
        roles = {seen.pid: seen.role for seen in workers.latest.values()}
        assert roles[int(poller)] == "poller"
        assert sorted(roles.values()).count("follower") == WORKERS - 1

        server.put("/flags.yaml", flags(2))
        workers.collect(workers.all_serve(2))
        assert {pid for pid in server.workers() if pid is not None} == {poller}
        assert server.statuses().count(200) == 2  # one per version, not one per worker

        # The poller dies; another takes over and the rest keep following.
        os.kill(int(poller), signal.SIGKILL)
        survivors = {seen.worker for seen in workers.latest.values() if seen.pid != int(poller)}
        before = len(server.requests)
        server.put("/flags.yaml", flags(3))
        workers.collect(workers.all_serve(3, among=survivors))
        after = {pid for pid in server.workers()[before:] if pid is not None}
        assert len(after) == 1
        assert after != {poller}
    finally:
        workers.stop()


def test_a_follower_reports_stale_while_the_poller_s_source_fails(
    server: FlagServer, tmp_path: Path, wait_for: Waiter
) -> None:
    cache = str(tmp_path / "flags.yaml")
    options = {"poll_interval": 0.05, "poll_jitter": 0, "backoff_max": 0.1, "cache_path": cache}
    user = User(user_id="1")
    with (
        Flagport(
            provider="local", url=server.url(), headers={"X-Worker": "A"}, **options
        ) as poller,
        Flagport(
            provider="local", url=server.url(), headers={"X-Worker": "B"}, **options
        ) as follower,
    ):
        # In one process, two clients: the second finds the lock taken, like a second worker.
        assert poller.get_config(user, "release").value == {"version": 1}
        assert follower.get_config(user, "release").value == {"version": 1}
        assert poller.stats()["provider"]["url"]["role"] == "poller"
        assert follower.stats()["provider"]["url"]["role"] == "follower"
        server.mode = "fail"
        assert wait_for(lambda: follower.stats()["provider"]["status"] == "STALE")
        assert "HTTP 500" in follower.stats()["provider"]["url"]["last_error"]
        server.mode = "ok"
        assert wait_for(lambda: follower.stats()["provider"]["status"] == "READY")
        assert set(server.workers()) == {"A"}  # the follower never asked the server
