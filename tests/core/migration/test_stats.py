"""``stats()`` reports every comparison of the evaluations made before it is called."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from flagport import Flagport, User
from flagport.providers.migration import MigrationProvider

TABLE: dict[str, Any] = {"gates": {"beta": ["1", "2", "3"]}, "configs": {"pricing": {"d": 1}}}
USERS = [User(user_id=str(i)) for i in range(300)]


@pytest.fixture
def migration() -> Iterator[Any]:
    made: list[Flagport] = []

    def make(**opts: Any) -> tuple[Flagport, MigrationProvider]:
        fp = Flagport(
            provider="migration",
            strict=False,
            stage="shadow",
            **{"from": {"provider": "table", **TABLE}, "to": {"provider": "table", **TABLE}},
            **opts,
        )
        made.append(fp)
        return fp, fp.provider  # type: ignore[return-value]

    yield make
    for fp in made:
        fp.shutdown(timeout=2)


def test_stats_right_after_shadow_evaluations_counts_them_all(migration: Any) -> None:
    # By default the secondary is compared on the worker thread.
    fp, _ = migration()
    for user in USERS:
        fp.check_gate(user, "beta")
        fp.get_config(user, "pricing")
    state = fp.stats()["provider"]
    assert state["flags"]["beta"]["compared"] == len(USERS)
    assert state["flags"]["beta"]["split"]["distribution"]["from"]["true"] == 3
    assert state["flags"]["pricing"]["compared"] == len(USERS)
    assert state["secondary"]["pending"] == 0


def test_stats_with_a_stuck_secondary_returns_and_counts_what_is_pending(migration: Any) -> None:
    fp, p = migration(compare_on="worker")
    p.new.block = True
    for user in USERS[:10]:
        assert fp.check_gate(user, "beta") is (user.user_id in {"1", "2", "3"})
    assert p.new.entered.wait(5)
    # The worker is inside the first comparison and cannot finish it: stats() waits a
    # bounded time, then says what is still to do.
    state = p.stats()
    assert state["flags"].get("beta", {"compared": 0})["compared"] == 0
    assert state["secondary"]["pending"] == 10
    p.new.release.set()
    assert p.stats()["flags"]["beta"]["compared"] == 10
