"""Bounded memos: one budget over many dict memos, emptied together when full."""

from __future__ import annotations

import gc

from flagport._memos import Budget, memoized
from flagport.events.exposures import ExposureDeduper


def test_memos_share_one_budget_and_are_emptied_together() -> None:
    budget = Budget(max_entries=3)
    first, second = budget.memo(), budget.memo()
    first.put("a", 1)
    second.put("b", 2)
    first.put("a", 10)  # an existing key is replaced, not counted again
    second.put("c", 3)
    assert (dict(first), dict(second), budget.entries) == ({"a": 10}, {"b": 2, "c": 3}, 3)
    first.put("d", 4)  # past the budget: every memo is emptied, then it is held
    assert (dict(first), dict(second)) == ({"d": 4}, {})
    assert budget.stats() == {"entries": 1, "bytes": 0, "clears": 1}


def test_the_byte_bound_empties_and_an_entry_over_it_is_never_held() -> None:
    budget = Budget(max_entries=1_000, max_bytes=100)
    memo = budget.memo()
    memo.put("small", 1, size=60)
    memo.put("huge", 2, size=101)
    assert dict(memo) == {"small": 1}
    memo.put("more", 3, size=60)
    assert dict(memo) == {"more": 3}
    assert budget.stats() == {"entries": 1, "bytes": 60, "clears": 1}


def test_a_dropped_memo_is_forgotten_by_its_budget() -> None:
    budget = Budget(max_entries=10)
    kept = budget.memo()
    budget.memo()  # dropped at once
    gc.collect()
    assert budget.memos() == [kept]


def test_memoized_remembers_within_its_bound() -> None:
    calls: list[int] = []

    @memoized(2)
    def double(value: int) -> int:
        calls.append(value)
        return value * 2

    assert [double(1), double(1), double(2), double(3), double(1)] == [2, 2, 4, 6, 2]
    assert calls == [1, 2, 3, 1]  # the third value emptied the memo
    assert len(double.memo) <= 2  # type: ignore[attr-defined]


def test_exposure_memory_is_bounded_and_repeats_within_the_window_are_suppressed() -> None:
    deduper = ExposureDeduper(window=3600, max_keys=100)
    assert deduper.first_time("u1", "exp", "blue") is True
    assert deduper.first_time("u1", "exp", "blue") is False
    for n in range(1_000):
        deduper.first_time(f"other-{n}", "exp", "blue")
        assert len(deduper) <= 100
    deduper.clear()
    assert len(deduper) == 0
    assert deduper.first_time("u1", "exp", "blue") is True
