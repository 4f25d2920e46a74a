from __future__ import annotations

import asyncio
import logging
import os
import sqlite3
import threading
from pathlib import Path
from typing import Any

import pytest

from flagport import Flagport, User
from flagport.errors import ConfigurationError
from flagport.reasons import Reason
from flagport.results import ExperimentResult
from flagport.sticky import Assignment

from .conftest import RedisServer, write_flags

USERS = [f"user-{i}" for i in range(10_000)]


def groups(fp: Flagport, users: list[str]) -> dict[str, str | None]:
    return {u: fp.get_experiment({"user_id": u}, "button_color").group for u in users}


def test_weights_changed_mid_experiment_keep_every_stored_user_in_his_group(
    tmp_path: Path,
) -> None:
    sticky = {"store": "sqlite", "path": str(tmp_path / "assignments.db")}
    before = Flagport("local", path=write_flags(tmp_path / "a.yaml", 50, 50), sticky=sticky)
    first = groups(before, USERS)
    assert set(first.values()) == {"control", "blue"}
    before.shutdown()  # saves the queued assignments

    changed = write_flags(tmp_path / "b.yaml", 10, 90)
    fresh = groups(Flagport("local", path=changed), USERS)
    moved = [u for u in USERS if fresh[u] != first[u]]
    assert len(moved) > 1000  # without stickiness, the new weights move many users

    after = Flagport("local", path=changed, sticky=sticky)
    results = [after.get_experiment({"user_id": u}, "button_color") for u in USERS]
    assert [r.group for r in results] == [first[u] for u in USERS]
    assert {r.reason for r in results} == {Reason.STICKY}
    assert results[0].value["color"] == ("gray" if first[USERS[0]] == "control" else "blue")
    assert after.stats()["sticky"]["served"] == len(USERS)


def test_a_stored_group_wins_within_a_scope_loaded_once(tmp_path: Path) -> None:
    fp = Flagport(
        "local", path=write_flags(tmp_path / "f.yaml", 0, 100), sticky={"store": "memory"}
    )
    fp._sticky.store.save(  # type: ignore[union-attr]
        [
            (
                "u1",
                "button_color",
                Assignment("control", {"color": "gray"}),
            )
        ]
    )
    with fp.scope({"user_id": "u1"}) as active:
        assert "button_color" in active.sticky[fp._sticky, "u1"]
        result = fp.get_experiment({"user_id": "u1"}, "button_color")
    assert (result.group, result.reason, result.value["color"]) == (
        "control",
        Reason.STICKY,
        "gray",
    )


def test_async_scope_loads_assignments_without_blocking(tmp_path: Path) -> None:
    fp = Flagport(
        "local", path=write_flags(tmp_path / "f.yaml", 50, 50), sticky={"store": "memory"}
    )
    first = fp.get_experiment({"user_id": "u7"}, "button_color")
    fp.flush()

    async def request() -> tuple[object, ExperimentResult]:
        async with fp.scope({"user_id": "u7"}) as active:
            loaded = active.sticky[fp._sticky, "u7"]
            return loaded, fp.get_experiment({"user_id": "u7"}, "button_color")

    loaded, again = asyncio.run(request())
    assert loaded == {"button_color": fp._sticky.store.load("u7")["button_color"]}  # type: ignore[union-attr]
    assert (again.group, again.reason) == (first.group, Reason.STICKY)


def test_units_without_an_id_are_never_stored(tmp_path: Path) -> None:
    fp = Flagport(
        "local", path=write_flags(tmp_path / "f.yaml", 50, 50), sticky={"store": "memory"}
    )
    fp.get_experiment({"custom_ids": {"device": "d1"}}, "button_color")
    fp.flush()
    assert fp.stats()["sticky"]["accepted"] == 0
    assert len(fp._sticky.store) == 0  # type: ignore[union-attr,arg-type]


def test_an_unknown_store_says_which_exist() -> None:
    with pytest.raises(ConfigurationError, match="memory, redis, sqlite"):
        Flagport("passall", sticky={"store": "mongo"})


def test_redis_stopped_and_restarted_during_traffic_loses_no_evaluation(
    tmp_path: Path, redis_server: RedisServer, caplog: pytest.LogCaptureFixture
) -> None:
    fp = Flagport(
        "local",
        path=write_flags(tmp_path / "f.yaml", 50, 50),
        sticky={"store": "redis", "url": redis_server.url, "timeout": 0.2},
    )
    users = USERS[:300]
    first = groups(fp, users)
    assert fp.flush()
    redis_server.stop()
    with caplog.at_level(logging.WARNING, logger="flagport.sticky"):
        during = [fp.get_experiment({"user_id": u}, "button_color") for u in users[:50]]
    # Served, fresh (the same hash gives the same group), never an error.
    assert [r.group for r in during] == [first[u] for u in users[:50]]
    assert {r.reason for r in during} == {Reason.SPLIT}
    assert fp.stats()["sticky"]["read_failures"] == 50
    assert sum("cannot be read" in r.getMessage() for r in caplog.records) == 1
    redis_server.start()  # empty again (--save ''): new assignments are stored anew
    groups(fp, users)
    assert fp.flush()
    again = [fp.get_experiment({"user_id": u}, "button_color") for u in users]
    assert {r.reason for r in again} == {Reason.STICKY}
    assert fp.stats()["sticky"]["read_failures"] == 50


@pytest.mark.parametrize("kind", ["sqlite", "redis"])
def test_four_forked_workers_share_the_store(
    tmp_path: Path, kind: str, request: pytest.FixtureRequest
) -> None:
    # Each child opens its own connection (the client resets the store in the child):
    # a parent's connection used by four processes at once would mix their answers.
    path = tmp_path / "shared.db"
    if kind == "sqlite":
        settings: dict[str, Any] = {"store": "sqlite", "path": str(path)}
    else:
        settings = {"store": "redis", "url": request.getfixturevalue("redis_server").url}
    fp = Flagport("local", path=write_flags(tmp_path / "f.yaml", 50, 50), sticky=settings)
    fp.get_experiment({"user_id": "parent"}, "button_color")  # the parent opened its connection
    assert fp.flush()
    children = []
    for worker in range(4):
        pid = os.fork()
        if pid == 0:  # pragma: no cover - runs in the child
            code = 1
            try:
                for i in range(250):
                    fp.get_experiment({"user_id": f"w{worker}-{i}"}, "button_color")
                code = 0 if fp.flush(30) else 2
            finally:
                os._exit(code)
        children.append(pid)
    assert [os.waitpid(pid, 0)[1] for pid in children] == [0, 0, 0, 0]
    store = fp._sticky.store  # type: ignore[union-attr]
    stored = [store.load(f"w{w}-{i}") for w in range(4) for i in range(250)]
    assert all("button_color" in s for s in stored)
    assert "button_color" in store.load("parent")


def test_an_override_wins_over_a_stored_group(tmp_path: Path) -> None:
    fp = Flagport(
        "local", path=write_flags(tmp_path / "f.yaml", 50, 50), sticky={"store": "memory"}
    )
    fp._sticky.store.save(  # type: ignore[union-attr]
        [("u1", "button_color", Assignment("control", {"color": "gray"}))]
    )
    fp.override_experiment("button_color", group="blue", value={"color": "blue"})
    for scoped in (False, True):
        if scoped:
            with fp.scope({"user_id": "u1"}):
                result = fp.get_experiment({"user_id": "u1"}, "button_color")
        else:
            result = fp.get_experiment({"user_id": "u1"}, "button_color")
        assert (result.group, result.reason) == ("blue", Reason.OVERRIDE)
    fp.clear_overrides()
    assert fp.get_experiment({"user_id": "u1"}, "button_color").reason is Reason.STICKY


def test_two_sticky_clients_in_one_scope_read_their_own_stores(tmp_path: Path) -> None:
    # Each client's store holds its own groups: in a request both evaluate, neither
    # serves the other's stored group nor stores into the other's request cache.
    flags = write_flags(tmp_path / "f.yaml", 50, 50)
    a = Flagport("local", path=flags, sticky={"store": "memory"})
    b = Flagport("local", path=flags, sticky={"store": "memory"})
    a._sticky.store.save(  # type: ignore[union-attr]
        [("u1", "button_color", Assignment("control", {"color": "gray"}))]
    )
    b._sticky.store.save(  # type: ignore[union-attr]
        [("u1", "button_color", Assignment("blue", {"color": "blue"}))]
    )
    user = User(user_id="u1")
    for opened_by in (a, b):
        with opened_by.scope(user):
            served = [fp.get_experiment(user, "button_color") for fp in (a, b, a, b)]
        assert [(r.group, r.reason) for r in served] == [
            ("control", Reason.STICKY),
            ("blue", Reason.STICKY),
        ] * 2
    a.shutdown()
    b.shutdown()


def test_a_write_meeting_another_process_s_long_write_is_saved_after_it(tmp_path: Path) -> None:
    # SQLite waits at most its busy timeout (1 s here) for another writer; four forked
    # workers on a loaded machine outlast it. The batch was then lost, counted as failed.
    path = tmp_path / "shared.db"
    fp = Flagport(
        "local",
        path=write_flags(tmp_path / "f.yaml", 50, 50),
        sticky={"store": "sqlite", "path": str(path)},
    )
    other = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    other.execute("BEGIN IMMEDIATE")  # another process writing, for 1.2 s
    threading.Timer(1.2, other.rollback).start()
    fp.get_experiment({"user_id": "u1"}, "button_color")
    assert fp.flush(10)
    assert fp.stats()["sticky"]["failed"] == 0
    assert "button_color" in fp._sticky.store.load("u1")  # type: ignore[union-attr]
    other.close()
