from __future__ import annotations

import asyncio
import contextvars
import gc
import sys
import threading
from collections.abc import Iterator
from typing import Any

import pytest

import flagport
from flagport import ErrorCode, Event, Flagport, User
from flagport.scope import current_scope

ALICE = User(user_id="alice")
BOB = User(user_id="bob")


@pytest.fixture
def client(scoped_client: tuple[Flagport, list[Event]]) -> tuple[Flagport, list[Event]]:
    return scoped_client


def test_shortcuts_use_the_scope_user(client: tuple[Flagport, list[Event]]) -> None:
    with flagport.scope(ALICE):
        assert flagport.current_user() is ALICE
        assert flagport.check_gate("beta") is True
        assert flagport.get_gate("beta").value is True
        with flagport.scope(BOB):
            assert flagport.check_gate("beta") is False
        assert flagport.check_gate("beta") is True
        assert flagport.get_experiment("button_color").group == "blue"
        assert flagport.get_config("pricing").value == {}
        flagport.log_event("purchase", value=3.5)
    assert flagport.current_user() is None
    # explicit users keep working inside and outside scopes
    assert flagport.check_gate(ALICE, "beta") is True


def test_without_a_scope_a_missing_user_is_invalid_context(
    client: tuple[Flagport, list[Event]],
) -> None:
    result = flagport.get_gate("beta")
    assert (result.value, result.error_code) == (False, ErrorCode.INVALID_CONTEXT)


def test_exposures_are_deduplicated_per_scope(client: tuple[Flagport, list[Event]]) -> None:
    fp, seen = client
    for _ in range(2):  # two requests of the same user
        with fp.scope(ALICE):
            for _ in range(3):
                flagport.get_experiment("button_color")
    fp.flush()
    # window 0 disables the global de-duplication: one exposure per request
    assert [(e.kind.value, e.user.user_id) for e in seen] == [("exposure", "alice")] * 2


def test_two_clients_in_one_scope_each_log_their_exposure() -> None:
    # One request, two clients (a library's and the application's): each client's
    # sinks get the exposure once; the first client's must not silence the second's.
    seen: dict[str, list[Event]] = {"a": [], "b": []}
    clients = []
    for events in seen.values():
        fp = Flagport(provider="passall", events={"sinks": [events.append], "exposure_window": 0})
        fp.override_experiment("button_color", group="blue", value={"color": "blue"})
        clients.append(fp)
    with flagport.scope(ALICE):
        for _ in range(2):
            for fp in clients:
                fp.get_experiment(ALICE, "button_color")
    for fp in clients:
        fp.shutdown()
    assert {name: [e.kind.value for e in events] for name, events in seen.items()} == {
        "a": ["exposure"],
        "b": ["exposure"],
    }


def test_threads_have_their_own_scope(client: tuple[Flagport, list[Event]]) -> None:
    results: dict[str, Any] = {}
    barrier = threading.Barrier(2)

    def request(user: User) -> None:
        with flagport.scope(user):
            barrier.wait(timeout=10)
            results[user.user_id or ""] = (flagport.check_gate("beta"), flagport.current_user())

    threads = [threading.Thread(target=request, args=(u,)) for u in (ALICE, BOB)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=10)
    assert results == {"alice": (True, ALICE), "bob": (False, BOB)}


def test_asyncio_tasks_have_their_own_scope(client: tuple[Flagport, list[Event]]) -> None:
    async def handler(user: User) -> tuple[bool, str | None]:
        with flagport.scope(user):
            await asyncio.sleep(0.01)
            inner = await asyncio.create_task(asyncio.sleep(0, result=flagport.current_user()))
            return flagport.check_gate("beta"), inner.user_id if inner else None

    async def main() -> list[tuple[bool, str | None]]:
        return await asyncio.gather(handler(ALICE), handler(BOB), handler(ALICE))

    assert asyncio.run(main()) == [(True, "alice"), (False, "bob"), (True, "alice")]


def test_a_scope_left_open_in_a_dropped_generator_reports_nothing(
    client: tuple[Flagport, list[Event]], monkeypatch: pytest.MonkeyPatch
) -> None:
    # A streamed response body holding a scope, run in a Context of its own (as the
    # WSGI middleware runs bodies), never closed: the collector finalises it here, in
    # another Context, where resetting the scope's variable is not possible.
    unraisable: list[Any] = []
    monkeypatch.setattr(sys, "unraisablehook", unraisable.append)

    def body() -> Iterator[str]:
        with flagport.scope(ALICE):
            user = flagport.current_user()
            yield user.user_id if user else "none"

    context = contextvars.copy_context()
    chunks = body()
    assert context.run(next, chunks) == "alice"
    del chunks
    gc.collect()
    assert [f"{u.exc_type.__name__}: {u.exc_value}" for u in unraisable] == []
    assert flagport.current_user() is None
    assert context.run(flagport.current_user) is ALICE  # that Context keeps its own value


def test_scope_blocks_nest_and_restore(client: tuple[Flagport, list[Event]]) -> None:
    with flagport.scope(ALICE) as outer:
        assert outer.user is ALICE
        with flagport.scope({"user_id": "bob"}) as inner:
            assert current_scope() is inner
            assert inner.user == BOB
        assert current_scope() is outer
    assert current_scope() is None


def test_stats_counts_evaluations_exposures_and_events(
    client: tuple[Flagport, list[Event]],
) -> None:
    fp, _ = client
    fp.check_gate(ALICE, "beta")
    fp.get_experiment(ALICE, "button_color")
    fp.get_config(ALICE, "pricing")
    fp.log_event(ALICE, "purchase")
    fp.flush()
    stats = fp.stats()
    assert stats["provider"] == {"name": "passall", "status": "READY"}
    assert stats["evaluations"] == {"gates": 1, "experiments": 1, "configs": 1, "errors": 0}
    assert stats["exposures"]["logged"] == 1
    assert stats["events"]["list.append"]["delivered"] == 2
