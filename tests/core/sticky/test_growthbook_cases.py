"""GrowthBook's published sticky-bucket cases through the local provider.

Each case's experiment rule is written as a flags-file experiment in GrowthBook's
terms (``hash: growthbook``, ``sticky_rules: growthbook``, ``fallback_unit``,
``bucket_version``, ``min_bucket_version``), its stored documents as the store's
entries, and the answer and what is stored after must be the case's. flagport keeps
one assignment per experiment and unit (the latest, with the lowest version the unit
was ever assigned at, which is what blocking needs) where GrowthBook keeps one per
bucket version: the stored entry is compared with the case's entry at the
experiment's bucket version (or the entry seeded, when nothing was written).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml
from growthbook_sticky_cases import CASES, check_answer, check_stored, seed

from flagport import Flagport, Reason, User
from flagport.sticky import Assignment


def unit_of(attribute: str) -> str:
    return "user_id" if attribute == "id" else attribute


def experiment(feature: dict[str, Any]) -> tuple[dict[str, Any], str, int]:
    """The flags-file experiment for the feature's experiment rule, its GrowthBook
    experiment key and bucket version."""
    (rule,) = feature["rules"]
    count = len(rule["variations"])
    weights = rule.get("weights") or [1 / count] * count
    metas = rule.get("meta") or [{} for _ in range(count)]
    spec: dict[str, Any] = {
        "unit": unit_of(rule.get("hashAttribute") or "id"),
        "hash": "growthbook" if rule.get("hashVersion") == 2 else "growthbook_v1",
        "allocation": float(rule.get("coverage", 1)) * 100,
        "groups": [
            {"name": meta.get("key", str(i)), "weight": round(w * 100, 6), "value": {"value": v}}
            for i, (meta, w, v) in enumerate(zip(metas, weights, rule["variations"], strict=True))
        ],
        "default": {"value": feature["defaultValue"]},
        "sticky": not rule.get("disableStickyBucketing", False),
        "sticky_rules": "growthbook",
        "bucket_version": rule.get("bucketVersion", 0),
    }
    key = rule.get("key")
    spec["salt"] = rule.get("seed") or key
    if key:
        spec["sticky_key"] = key  # GrowthBook's experiment key names the stored entries
    if "minBucketVersion" in rule:
        spec["min_bucket_version"] = rule["minBucketVersion"]
    if rule.get("fallbackAttribute"):
        spec["fallback_unit"] = unit_of(rule["fallbackAttribute"])
    if rule.get("condition"):
        spec["when"] = rule["condition"]
    return spec, key, rule.get("bucketVersion", 0)


def as_user(attributes: dict[str, Any]) -> User:
    ids = {k: v for k, v in attributes.items() if k not in {"id", "country", "foo"}}
    custom = {k: v for k, v in attributes.items() if k == "foo"}
    return User(
        user_id=attributes.get("id"),
        country=attributes.get("country"),
        custom_ids=ids,
        custom=custom,
    )


@pytest.mark.parametrize("case", CASES, ids=[c[0] for c in CASES])
def test_growthbooks_published_sticky_bucket_cases_through_the_local_provider(
    case: list[Any], tmp_path: Path
) -> None:
    _name, context, docs, feature_key, expected, _after = case
    (feature,) = context["features"].values()
    spec, _key, _version = experiment(feature)
    if spec["salt"] is None:
        spec["salt"] = feature_key
    path = tmp_path / "flags.yaml"
    path.write_text(yaml.safe_dump({"experiments": {feature_key: spec}}))
    fp = Flagport("local", path=str(path), sticky={"store": "memory"})
    store = fp._sticky.store  # type: ignore[union-attr]
    seed(store, docs)

    result = fp.get_experiment(as_user(context["attributes"]), feature_key)
    check_answer(result, expected, feature["defaultValue"], lambda value: {"value": value})
    assert fp.flush()
    check_stored(store, case)
    fp.shutdown()


def flags(path: Path, version: int, minimum: int, salt: str) -> str:
    path.write_text(
        f"""
hash: growthbook
experiments:
  button_color:
    unit: device_id
    salt: {salt}
    sticky_rules: growthbook
    bucket_version: {version}
    min_bucket_version: {minimum}
    default: {{color: gray}}
    groups:
      - {{name: control, weight: 50, value: {{color: gray}}}}
      - {{name: blue, weight: 50, value: {{color: blue}}}}
"""
    )
    return str(path)


def test_a_unit_once_assigned_below_the_minimum_stays_blocked(tmp_path: Path) -> None:
    sticky = {"store": "sqlite", "path": str(tmp_path / "a.db")}
    users = [User(custom_ids={"device_id": f"d{i}"}) for i in range(200)]

    def run(path: str) -> list[tuple[str | None, Reason]]:
        with Flagport("local", path=path, sticky=sticky) as fp:
            return [
                (r.group, r.reason) for r in (fp.get_experiment(u, "button_color") for u in users)
            ]

    first = run(flags(tmp_path / "a.yaml", 0, 0, "s1"))
    assert {reason for _, reason in first} == {Reason.SPLIT}
    # Version 1: every device is assigned afresh (GrowthBook keeps no older group) ...
    bumped = run(flags(tmp_path / "b.yaml", 1, 0, "s2"))
    assert {reason for _, reason in bumped} == {Reason.SPLIT}
    assert run(flags(tmp_path / "c.yaml", 1, 0, "s3")) == [(g, Reason.STICKY) for g, _ in bumped]
    # ... and a minimum of 1 blocks them all: each was once assigned at version 0.
    blocked = run(flags(tmp_path / "d.yaml", 1, 1, "s3"))
    assert set(blocked) == {(None, Reason.DEFAULT)}
    # Stored per device (the experiment's unit), not per user id, one entry per bucket
    # version as GrowthBook's documents keep them.
    with Flagport("local", path=str(tmp_path / "d.yaml"), sticky=sticky) as fp:
        stored = fp._sticky.store.load("device_id||d0")  # type: ignore[union-attr]
    assert set(stored) == {"growthbook:button_color__0", "growthbook:button_color__1"}


def test_a_blocked_unit_gets_the_callers_default_when_the_experiment_has_none(
    tmp_path: Path,
) -> None:
    text = Path(flags(tmp_path / "a.yaml", 1, 1, "s1")).read_text()
    path = tmp_path / "b.yaml"
    path.write_text(text.replace("    default: {color: gray}\n", ""))
    fp = Flagport("local", path=str(path), sticky={"store": "memory"})
    fp._sticky.store.save(  # type: ignore[union-attr]
        [("device_id||d1", "button_color", Assignment("blue", {}, 0))]
    )
    user = User(custom_ids={"device_id": "d1"})
    for _ in range(2):
        result = fp.get_experiment(user, "button_color", default={"color": "white"})
        assert (result.group, result.reason, dict(result.value)) == (
            None,
            Reason.DEFAULT,
            {"color": "white"},
        )
    assert dict(fp.get_experiment(user, "button_color").value) == {}
