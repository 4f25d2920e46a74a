"""The file-wide budget of alias-expanded values covers validation as well as compiling.

A flag that fails validation still has its conditions checked (so one run reports
everything); those conditions count against the same budget as the compiled ones, and a
condition aliased by many flags is compiled once. Work is counted, never timed.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from flagport import ConfigurationError
from flagport.providers.local import compiler, conditions, loader
from flagport.providers.local.limits import MAX_ALIAS_GROWTH, MAX_CONDITION_SIZE, Audit

# One condition of 8,001 parts (an $or of 4,000 one-key mappings), under the size limit
# of a condition; 200 aliases of it add 1.6 million values, over the file's budget.
PARTS = 4_000
GATES = 200
assert PARTS * 2 + 1 < MAX_CONDITION_SIZE
assert GATES * (PARTS * 2 + 1) > MAX_ALIAS_GROWTH


def aliased_gates(percentages: list[int]) -> str:
    """Gates each aliasing one large condition; the first defines the anchor."""
    big = ", ".join(f"{{plan: p{i}}}" for i in range(PARTS))
    lines = ["gates:"]
    for index, pct in enumerate(percentages):
        when = f"&big {{$or: [{big}]}}" if index == 0 else "*big"
        lines += [f"  g{index}:", "    rules:", f"      - when: {when}"]
        lines.append(f"        pass_percentage: {pct}")
    return "\n".join(lines) + "\n"


@pytest.fixture
def compilations(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The path of every condition compiled, wherever the loader reaches the compiler."""
    seen: list[str] = []
    real = conditions.compile_audited

    def counted(cond: Any, segments: Any = None, *, path: str = "") -> Any:
        seen.append(path)
        return real(cond, segments, path=path)

    for module in (conditions, compiler, loader):
        monkeypatch.setattr(module, "compile_audited", counted, raising=False)
    return seen


def budget_problems(error: ConfigurationError) -> list[tuple[str, int | None]]:
    return [
        (location.path, location.line)
        for location, message in error.problems
        if f"YAML aliases expand this file by more than {MAX_ALIAS_GROWTH:,}" in message
    ]


def test_aliases_in_flags_that_fail_validation_meet_the_budget(
    tmp_path: Path, compilations: list[str]
) -> None:
    # Each gate fails validation (pass_percentage 200), so only the loader's check of
    # raw conditions sees them: it audited each with a fresh budget and compiled the
    # 8,001-part condition once per gate (3,000 gates: 8.6 s).
    path = tmp_path / "flags.yaml"
    path.write_text(aliased_gates([200] * GATES))
    with pytest.raises(ConfigurationError) as info:
        loader.load_file(path)
    # Reported once, located at the alias where the budget ran out (the 125th copy).
    reached = 1 + MAX_ALIAS_GROWTH // (PARTS * 2 + 1)
    assert budget_problems(info.value) == [(f"gates.g{reached}.rules[0].when", 4 * reached + 4)]
    # Every gate's own problem is still reported.
    percentages = [loc.path for loc, _ in info.value.problems if "pass_percentage" in loc.path]
    assert len(percentages) == GATES
    # The shared condition is compiled once, not once per alias.
    assert len(compilations) == 1


def test_valid_and_invalid_flags_share_one_budget(tmp_path: Path) -> None:
    # Half the copies in flags that validate (compiled), half in flags that do not
    # (checked by the loader): each half is under the budget, together they are over.
    half = GATES // 2
    assert half * (PARTS * 2 + 1) < MAX_ALIAS_GROWTH
    path = tmp_path / "flags.yaml"
    path.write_text(aliased_gates([200] * half + [50] * half))
    with pytest.raises(ConfigurationError) as info:
        loader.load_file(path)
    assert len(budget_problems(info.value)) == 1


def test_a_refused_condition_aliased_by_failing_flags_is_reported_at_each(
    tmp_path: Path, compilations: list[str]
) -> None:
    text = (
        "gates:\n"
        "  a:\n    rules:\n      - pass_percentage: 200\n        when: &c {n: {$regex: '(a)\\1'}}\n"
        "  b:\n    rules:\n      - pass_percentage: 300\n        when: *c\n"
    )
    path = tmp_path / "flags.yaml"
    path.write_text(text)
    with pytest.raises(ConfigurationError) as info:
        loader.load_file(path)
    refused = [loc.path for loc, message in info.value.problems if "backreferences" in message]
    assert refused == ["gates.a.rules[0].when.n.$regex", "gates.b.rules[0].when.n.$regex"]
    assert len(compilations) == 1


def test_a_value_json_cannot_write_is_judged_once(monkeypatch: pytest.MonkeyPatch) -> None:
    judged: list[Any] = []
    real = Audit._scalar

    def counted(value: Any, path: str) -> Any:
        judged.append(value)
        return real(value, path)

    monkeypatch.setattr(Audit, "_scalar", staticmethod(counted))
    problems = Audit().check({"x": [1, float("inf")]}, "default")
    assert [path for path, _ in problems] == ["default.x[1]"]
    assert judged == [float("inf")]
