from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
import redis

from flagport.sticky import Assignment, MemoryStore, StickyStore
from flagport.sticky.redis_store import RedisStore, masked_url
from flagport.sticky.sqlite import SQLiteStore

from .conftest import RedisServer

A = Assignment("blue", {"color": "blue"}, 2)
B = Assignment("control", {"color": "gray"}, 0)


def stores(tmp_path: Path, server: RedisServer) -> list[StickyStore]:
    return [MemoryStore(), SQLiteStore(tmp_path / "a.db"), RedisStore(server.url)]


def test_each_store_saves_and_loads_a_units_assignments(
    tmp_path: Path, redis_server: RedisServer
) -> None:
    for store in stores(tmp_path, redis_server):
        assert store.load("u1") == {}
        store.save([("u1", "exp", A), ("u1", "other", B), ("u2", "exp", B)])
        assert store.load("u1") == {"exp": A, "other": B}, store
        store.save([("u1", "exp", B)])
        assert store.load("u1")["exp"] == B
        assert asyncio.run(store.aload("u2")) == {"exp": B}
        store.close()


def test_the_memory_store_is_bounded() -> None:
    store = MemoryStore(max_units=3)
    store.save([(f"u{i}", "exp", A) for i in range(10)])
    assert len(store) == 3
    assert store.load("u0") == {}
    assert store.load("u9") == {"exp": A}


def test_a_redis_password_never_shows(
    redis_server: RedisServer, caplog: pytest.LogCaptureFixture
) -> None:
    url = f"redis://user:s3cret-pass-word@127.0.0.1:{redis_server.port}/0"
    store = RedisStore(url)
    assert "s3cret" not in repr(store)
    assert masked_url(url) == f"redis://user:***@127.0.0.1:{redis_server.port}/0"
    import logging

    logging.getLogger("flagport").warning("connecting to %s", url)
    assert "s3cret" not in caplog.text


def test_a_stopped_redis_raises_and_the_client_reconnects_by_itself(
    redis_server: RedisServer,
) -> None:
    store = RedisStore(redis_server.url)
    store.save([("u1", "exp", A)])
    redis_server.stop()
    with pytest.raises(redis.exceptions.ConnectionError):
        store.load("u1")
    redis_server.start()  # an empty server (--save '')
    store.save([("u1", "exp", B)])
    assert store.load("u1") == {"exp": B}


def test_each_store_keeps_a_group_value_that_is_not_a_mapping(
    tmp_path: Path, redis_server: RedisServer
) -> None:
    # Rules v2 groups serve any JSON value: a string, a number, a list, nothing.
    served = [
        Assignment("red", "red"),
        Assignment("n", 3),
        Assignment("l", ("a", 1)),
        Assignment("x", None),
    ]
    for store in stores(tmp_path, redis_server):
        store.save([("u1", f"exp{i}", a) for i, a in enumerate(served)])
        loaded = store.load("u1")
        assert [loaded[f"exp{i}"].value for i in range(len(served))] == [
            "red",
            3,
            ["a", 1] if not isinstance(store, MemoryStore) else ("a", 1),
            None,
        ], store
        store.close()
