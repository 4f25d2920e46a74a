"""GrowthBook import: the written file sees a user as the growthbook provider sends it
(``id`` is a custom ``id``, else the user id, else a custom id ``id``; custom ids are
attributes), and keeps the vendor's rule ids."""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from flagport.cli import cli
from flagport.importers.run import import_payload

EXAMPLE = Path(__file__).parents[3] / "examples" / "import" / "growthbook_features.json"

#: Hash attributes and conditions on ``id`` and on a name that is also a custom id.
PAYLOAD: dict[str, Any] = {
    "features": {
        "by_id": {
            "defaultValue": "off",
            "rules": [
                {"id": "vip", "condition": {"id": {"$in": ["u1", "u2", "c-3"]}}, "force": "vip"},
                {"id": "half", "force": "on", "coverage": 0.5, "hashAttribute": "id"},
            ],
        },
        "by_company": {
            "defaultValue": 0,
            "rules": [
                {"id": "acme", "condition": {"company_id": "acme"}, "force": 1},
                {
                    "id": "split",
                    "key": "company-split",
                    "variations": [10, 20, 30],
                    "hashAttribute": "company_id",
                    "hashVersion": 2,
                },
            ],
        },
        "default_unit": {
            "defaultValue": "a",
            "rules": [{"variations": ["a", "b"], "weights": [0.5, 0.5], "key": "du"}],
        },
    }
}


def _users() -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    for i in range(80):
        kind = i % 5
        row: dict[str, Any] = {"user_id": f"u{i}"}
        if kind == 1:  # a custom id attribute wins over the user id
            row["custom"] = {"id": f"c-{i}"}
        elif kind == 2:  # a custom id named id comes last
            row["custom_ids"] = {"id": f"x-{i}", "company_id": f"co-{i % 7}"}
        elif kind == 3:  # no user id: the custom id "id" is GrowthBook's id
            row = {"custom_ids": {"id": f"c-{i}", "company_id": "acme"}}
        elif kind == 4:  # attribute and custom id of the same name: the attribute wins
            row["custom"] = {"company_id": f"co-{i % 5}", "id": ""}
            row["custom_ids"] = {"company_id": "acme", "id": f"y-{i}"}
        rows.append(row)
    return rows


def _verify(tmp_path: Path, payload: Path, rows: list[dict[str, Any]]) -> Any:
    users, out = tmp_path / "users.jsonl", tmp_path / "flags.yaml"
    users.write_text("\n".join(json.dumps(r) for r in rows) + "\n")
    args = ["import", "growthbook", str(payload), "-o", str(out), "--verify", str(users)]
    return CliRunner().invoke(cli, args, catch_exceptions=False)


def test_users_with_only_a_user_id_agree_with_the_sdk(tmp_path: Path) -> None:
    result = _verify(tmp_path, EXAMPLE, [{"user_id": f"u{i}", "country": "FR"} for i in range(60)])
    assert result.exit_code == 0, result.output
    assert "mismatch" not in result.output


@pytest.mark.parametrize("case", ["only_user_id", "mixed_ids"])
def test_ids_mean_what_the_growthbook_provider_sends(tmp_path: Path, case: str) -> None:
    source = tmp_path / "features.json"
    source.write_text(json.dumps(PAYLOAD))
    rows = [{"user_id": f"u{i}"} for i in range(60)] if case == "only_user_id" else _users()
    result = _verify(tmp_path, source, rows)
    assert result.exit_code == 0, result.output
    assert "mismatch" not in result.output


def test_rules_keep_the_vendors_ids() -> None:
    features = dict(PAYLOAD["features"])
    features["repeats"] = {
        "defaultValue": 0,
        "rules": [
            {"id": "same", "force": 1, "condition": {"a": 1}},
            {"id": "same", "force": 2, "condition": {"a": 2}},
            {"force": 3, "condition": {"a": 3}},
            {"id": "r3", "force": 4, "condition": {"a": 4}},
        ],
    }
    flags = _every_flag(import_payload("growthbook", {"features": features}).flags)
    ids = {name: [rule["id"] for rule in flag["rules"]] for name, flag in flags.items()}
    assert ids == {
        "by_id": ["vip", "half"],
        "by_company": ["acme", "split"],
        "default_unit": ["r0"],
        "repeats": ["same", "r1", "r2", "r3"],
    }


def test_a_gating_prerequisite_keeps_the_rule_id_and_names_its_gate_rule() -> None:
    features = {
        "parent": {"defaultValue": True},
        "child": {
            "defaultValue": "x",
            "rules": [
                {
                    "id": "launch",
                    "parentConditions": [
                        {"id": "parent", "condition": {"value": True}, "gate": True}
                    ],
                    "force": "y",
                }
            ],
        },
    }
    rules = _every_flag(import_payload("growthbook", {"features": features}).flags)["child"]
    assert [rule["id"] for rule in rules["rules"]] == ["launch_gate0", "launch"]


def _every_flag(data: Mapping[str, Any]) -> dict[str, Any]:
    """The imported flags by name, whatever section (gates, experiments, configs) each
    was written to."""
    sections = ("gates", "experiments", "configs")
    return {name: flag for section in sections for name, flag in data.get(section, {}).items()}


def sticky_rule(**fields: Any) -> dict[str, Any]:
    return {
        "id": "exp",
        "key": "checkout-exp",
        "variations": ["a", "b"],
        "meta": [{"key": "a"}, {"key": "b"}],
        "hashAttribute": "id",
        **fields,
    }


def test_the_first_experiment_rule_carries_growthbooks_sticky_bucketing() -> None:
    payload = {
        "features": {
            "f": {
                "defaultValue": "a",
                "rules": [
                    sticky_rule(
                        fallbackAttribute="deviceId",
                        bucketVersion=3,
                        minBucketVersion=2,
                        disableStickyBucketing=True,
                    ),
                    sticky_rule(id="second", key="other", hashAttribute="company"),
                ],
            }
        }
    }
    imported = import_payload("growthbook", json.dumps(payload))
    assert not imported.left_out
    experiment = imported.flags["experiments"]["f"]
    assert {
        k: v for k, v in experiment.items() if k not in ("default", "rules", "description")
    } == {
        "unit": "$growthbook.id",
        "sticky_rules": "growthbook",
        "sticky_key": "checkout-exp",
        "fallback_unit": "$growthbook.deviceId",
        "bucket_version": 3,
        "min_bucket_version": 2,
        "sticky": False,
    }
    first, second = experiment["rules"]
    assert "unit" not in first  # the sticky split inherits the experiment's unit
    assert second["unit"] == "$growthbook.company"


def test_every_later_experiment_rule_carries_its_own_sticky_bucketing() -> None:
    """GrowthBook buckets every experiment rule stickily, each under its own key."""
    rules = [
        sticky_rule(),
        sticky_rule(
            id="second",
            key="other",
            fallbackAttribute="deviceId",
            bucketVersion=2,
            minBucketVersion=1,
        ),
        sticky_rule(id="third", key="plain"),
        sticky_rule(id="fourth", key="off", disableStickyBucketing=True),
    ]
    payload = {"features": {"f": {"defaultValue": "a", "rules": rules}}}
    imported = import_payload("growthbook", json.dumps(payload))
    assert not imported.left_out
    _first, second, third, fourth = imported.flags["experiments"]["f"]["rules"]
    assert second["split"]["sticky"] == {
        "key": "other",
        "bucket_version": 2,
        "min_bucket_version": 1,
        "fallback_unit": "$growthbook.deviceId",
    }
    assert third["split"]["sticky"] == {"key": "plain"}
    assert fourth["split"]["sticky"] is False


def test_an_experiment_named_by_its_feature_has_no_sticky_key() -> None:
    payload = {"features": {"checkout-exp": {"defaultValue": "a", "rules": [sticky_rule()]}}}
    experiment = import_payload("growthbook", json.dumps(payload)).flags["experiments"]
    assert "sticky_key" not in experiment["checkout-exp"]


@pytest.mark.parametrize(
    ("fields", "where", "kept"),
    [
        ({"bucketVersion": 1, "minBucketVersion": 2}, "minBucketVersion", {"bucket_version": 1}),
        ({"bucketVersion": "2"}, "bucketVersion", {}),
        ({"bucketVersion": 2, "minBucketVersion": -1}, "minBucketVersion", {"bucket_version": 2}),
    ],
    ids=["minimum above the version", "version as text", "negative minimum"],
)
def test_versions_the_file_cannot_hold_are_listed_as_left_out(
    fields: dict[str, Any], where: str, kept: dict[str, int]
) -> None:
    payload = {"features": {"f": {"defaultValue": "a", "rules": [sticky_rule(**fields)]}}}
    imported = import_payload("growthbook", json.dumps(payload))
    assert [(o.flag, o.where) for o in imported.left_out] == [("f", f"rules[0].{where}")]
    experiment = imported.flags["experiments"]["f"]
    versions = {
        k: experiment[k] for k in ("bucket_version", "min_bucket_version") if k in experiment
    }
    assert versions == kept


def test_a_force_rules_fallback_attribute_is_still_left_out() -> None:
    rule = {"id": "r", "force": True, "coverage": 0.5, "fallbackAttribute": "deviceId"}
    payload = {"features": {"f": {"defaultValue": False, "rules": [rule]}}}
    imported = import_payload("growthbook", json.dumps(payload))
    assert [(o.flag, o.where) for o in imported.left_out] == [("f", "rules[0].fallbackAttribute")]


def test_verify_randoms_users_read_an_experiments_vendor_unit_as_its_attribute() -> None:
    """An imported sticky experiment's unit is ``$growthbook.id``: the generated users
    carry GrowthBook's ``id`` for it, never a custom id named ``$growthbook.id``."""
    from flagport.cli.importer import random_users

    payload = {"features": {"f": {"defaultValue": "a", "rules": [sticky_rule()]}}}
    flags = import_payload("growthbook", json.dumps(payload)).flags
    assert flags["experiments"]["f"]["unit"] == "$growthbook.id"
    users = random_users(flags, 50)
    assert not any(name.startswith("$") for user in users for name in user.custom_ids)
    assert any("id" in user.custom or "id" in user.custom_ids for user in users)
