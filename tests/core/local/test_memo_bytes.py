"""The local provider's hash memo is bounded in bytes as well as in entries."""

from __future__ import annotations

import pytest

from flagport import User
from flagport.providers.local import LocalProvider, compiled
from flagport.providers.local.bucketing import get_bucketer

FLAGS = {
    "gates": {"rollout": {"salt": "rollout", "rules": [{"id": "half", "pass_percentage": 50}]}},
}


def _held_bytes() -> int:
    """The characters of every unit id the memos keep alive."""
    return sum(len(unit) for memo in compiled.MEMOS.memos() for unit in memo)


def test_long_unit_ids_cannot_fill_memory_through_the_memo() -> None:
    # 8,000 users with 100 KB ids held 800 MB; the entry limit alone allows ~6.5 GB.
    provider = LocalProvider(LocalProvider.Options(flags=FLAGS, watch=False))
    provider.start()
    compiled.clear_memo()
    bucketer = get_bucketer("statsig")
    answers = []
    for i in range(1000):
        unit = f"{i:06d}" + "x" * 100_000
        user = User(user_id=unit)
        passed = provider.check_gate(user, "rollout")
        assert passed == bucketer.gate_passes("rollout", "half", unit, 50)
        answers.append(passed)
        assert _held_bytes() <= 16 * 1024 * 1024  # the documented default bound
    stats = compiled.memo_stats()
    assert stats["bytes"] <= compiled.MEMO_BYTES_LIMIT == 16 * 1024 * 1024
    assert stats["clears"] >= 5  # the byte bound emptied the memo, and counted it
    assert len(set(answers)) == 2
    provider.shutdown(1)


def test_a_unit_id_larger_than_the_whole_budget_is_never_memoised(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(compiled.MEMOS, "max_bytes", 10_000)
    provider = LocalProvider(LocalProvider.Options(flags=FLAGS, watch=False))
    provider.start()
    compiled.clear_memo()
    huge = User(user_id="u" * 20_000)
    first = provider.check_gate(huge, "rollout")
    assert _held_bytes() == 0
    assert provider.check_gate(huge, "rollout") is first
    small = User(user_id="42")
    provider.check_gate(small, "rollout")
    assert _held_bytes() == 2
    provider.shutdown(1)
