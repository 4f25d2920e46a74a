from __future__ import annotations

from pathlib import Path

import pytest

from flagport import Flagport
from flagport.errors import ConfigurationError
from flagport.reasons import Reason

USERS = [f"user-{i}" for i in range(1000)]


def flags(path: Path, *, weights: tuple[int, int], extra: str = "", salt: str = "s1") -> str:
    path.write_text(
        f"""
experiments:
  button_color:
    salt: {salt}
{extra}
    groups:
      - {{name: control, weight: {weights[0]}, value: {{color: gray}}}}
      - {{name: blue, weight: {weights[1]}, value: {{color: blue}}}}
"""
    )
    return str(path)


def run(tmp_path: Path, path: str) -> list[tuple[str | None, Reason]]:
    fp = Flagport("local", path=path, sticky={"store": "sqlite", "path": str(tmp_path / "a.db")})
    out = [
        (r.group, r.reason)
        for r in (fp.get_experiment({"user_id": u}, "button_color") for u in USERS)
    ]
    fp.shutdown()
    return out


def test_a_bucket_version_bump_reassigns(tmp_path: Path) -> None:
    first = run(tmp_path, flags(tmp_path / "a.yaml", weights=(50, 50), extra="    sticky: true"))
    # Same version, a new salt: every stored user keeps his group.
    kept = run(
        tmp_path, flags(tmp_path / "b.yaml", weights=(50, 50), salt="s2", extra="    sticky: true")
    )
    assert [g for g, _ in kept] == [g for g, _ in first]
    assert {r for _, r in kept} == {Reason.STICKY}
    # Version raised: fresh assignments from the new salt, stored with the new version.
    bumped = run(
        tmp_path,
        flags(tmp_path / "c.yaml", weights=(50, 50), salt="s2", extra="    bucket_version: 1"),
    )
    assert {r for _, r in bumped} == {Reason.SPLIT}
    moved = sum(a != b for (a, _), (b, _) in zip(first, bumped, strict=True))
    assert moved > 250  # a new salt reshuffles about half
    again = run(
        tmp_path,
        flags(tmp_path / "d.yaml", weights=(10, 90), salt="s3", extra="    bucket_version: 1"),
    )
    assert [g for g, _ in again] == [g for g, _ in bumped]
    assert {r for _, r in again} == {Reason.STICKY}


def test_a_minimum_below_the_version_keeps_recent_assignments(tmp_path: Path) -> None:
    run(tmp_path, flags(tmp_path / "a.yaml", weights=(50, 50), extra="    bucket_version: 1"))
    # Version 2 with minimum 1: version-1 assignments still win.
    kept = run(
        tmp_path,
        flags(
            tmp_path / "b.yaml",
            weights=(50, 50),
            salt="x",
            extra="    bucket_version: 2\n    min_bucket_version: 1",
        ),
    )
    assert {r for _, r in kept} == {Reason.STICKY}
    # Minimum 2: version-1 assignments are discarded.
    fresh = run(
        tmp_path,
        flags(
            tmp_path / "c.yaml",
            weights=(50, 50),
            salt="x",
            extra="    bucket_version: 2\n    min_bucket_version: 2",
        ),
    )
    assert {r for _, r in fresh} == {Reason.SPLIT}


def test_sticky_false_opts_an_experiment_out(tmp_path: Path) -> None:
    run(tmp_path, flags(tmp_path / "a.yaml", weights=(50, 50)))
    out = run(
        tmp_path, flags(tmp_path / "b.yaml", weights=(50, 50), salt="y", extra="    sticky: false")
    )
    assert {r for _, r in out} == {Reason.SPLIT}


def test_a_minimum_above_the_version_is_a_located_problem(tmp_path: Path) -> None:
    path = flags(
        tmp_path / "a.yaml",
        weights=(50, 50),
        extra="    bucket_version: 1\n    min_bucket_version: 3",
    )
    with pytest.raises(ConfigurationError) as info:
        _ = Flagport("local", path=path, strict=True).provider
    assert "experiments.button_color.min_bucket_version" in str(info.value)


def test_a_later_splits_minimum_above_its_version_is_a_located_problem() -> None:
    variants = [{"group": "a", "weight": 50}, {"group": "b", "weight": 50}]
    sticky = {"key": "later", "bucket_version": 1, "min_bucket_version": 3}
    flags = {
        "hash": "growthbook",
        "experiments": {
            "e": {
                "sticky_rules": "growthbook",
                "rules": [
                    {"id": "first", "outside": "next", "split": {"variants": variants}},
                    {"id": "later", "split": {"sticky": sticky, "variants": variants}},
                ],
            }
        },
    }
    with pytest.raises(ConfigurationError) as info:
        _ = Flagport("local", flags=flags, strict=True).provider
    assert str(info.value).count("problem") == 1
    assert "experiments.e.rules[1].split.sticky.min_bucket_version" in str(info.value)
    assert "above bucket_version 1" in str(info.value)
