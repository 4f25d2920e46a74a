"""Statsig import: a rollout hashes an empty or missing unit id as Statsig's SDK does."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

from click.testing import CliRunner

from flagport.cli import cli

EXAMPLE = Path(__file__).parents[3] / "examples" / "import" / "statsig_specs.json"


def _with_company_rollouts() -> dict[str, Any]:
    """The example with rollouts on a custom id type, at several percentages."""
    specs: dict[str, Any] = json.loads(EXAMPLE.read_text())
    base = specs["feature_gates"]["new_checkout"]
    for percent in (1, 50, 99):
        gate = copy.deepcopy(base)
        gate["name"] = f"company_{percent}"
        gate["idType"] = "companyID"
        gate["salt"] = f"company_salt_{percent}"
        gate["rules"] = [
            {**rule, "idType": "companyID", "passPercentage": percent} for rule in gate["rules"]
        ]
        specs["feature_gates"][gate["name"]] = gate
    return specs


def _verify(tmp_path: Path, specs: dict[str, Any], rows: list[dict[str, Any]]) -> None:
    """Import ``specs`` and verify the file against Statsig's SDK over ``rows``."""
    source, users, out = tmp_path / "specs.json", tmp_path / "users.jsonl", tmp_path / "f.yaml"
    source.write_text(json.dumps(specs))
    users.write_text("\n".join(json.dumps(r) for r in rows) + "\n")
    args = ["import", "statsig", str(source), "-o", str(out), "--verify", str(users)]
    result = CliRunner().invoke(cli, args, catch_exceptions=False)
    assert result.exit_code == 0, result.output
    assert "mismatch" not in result.output


def test_empty_and_missing_unit_ids_agree_with_the_sdk(tmp_path: Path) -> None:
    rows: list[dict[str, Any]] = [
        {"user_id": ""},
        {"user_id": "", "country": "US"},
        {"user_id": "", "plan": "pro"},
        {"custom_ids": {"companyID": ""}},
        {"user_id": "", "custom_ids": {"companyID": ""}},
        {"email": "no-id@example.com"},
        *({"user_id": f"u{i}", "custom_ids": {"companyID": f"c{i}"}} for i in range(20)),
    ]
    _verify(tmp_path, _with_company_rollouts(), rows)


def test_an_attribute_named_like_the_custom_id_type_is_not_the_unit(tmp_path: Path) -> None:
    # Statsig's unit for idType companyID is only the custom id (as written, then lower
    # case); an attribute companyID is no unit, so such users are hashed as "".
    rows: list[dict[str, Any]] = [
        *({"user_id": f"u{i}", "custom": {"companyID": f"c{i}"}} for i in range(30)),
        *({"user_id": f"p{i}", "private": {"companyID": f"c{i}"}} for i in range(10)),
        *({"user_id": f"l{i}", "custom_ids": {"companyid": f"c{i}"}} for i in range(10)),
    ]
    _verify(tmp_path, _with_company_rollouts(), rows)


def test_a_custom_id_type_imports_as_a_statsig_unit() -> None:
    from flagport.importers.statsig import import_statsig

    flags = import_statsig(_with_company_rollouts()).flags
    assert flags["gates"]["company_50"]["unit"] == "$statsig.companyID"
    assert flags["gates"]["new_checkout"]["unit"] == "user_id"


def test_unit_id_conditions_on_missing_and_empty_ids_agree_with_the_sdk(tmp_path: Path) -> None:
    # Statsig tests a missing unit id as its empty value (the text operators see "",
    # eq sees null, str_matches and versions fail); every operator, on the user id and
    # on a custom id, for users without the id, with it empty and with it set.
    from flagport.importers.statsig import STATSIG_OPERATORS

    targets: list[Any] = [[""], ["", "x"], "", None, "^$", ".*", "0"]
    # ID lists on a missing id: tests/statsig/test_id_lists.py.
    operators = [
        op for op in STATSIG_OPERATORS if op not in ("before", "after", "on") and "list" not in op
    ]
    specs: dict[str, Any] = {
        "has_updates": True, "time": 1_700_000_000_000, "response_format": "dcs-v2",
        "feature_gates": {}, "dynamic_configs": {}, "layer_configs": {},
        "experiment_to_layer": {}, "condition_map": {},
    }  # fmt: skip
    for id_type in ("userID", "companyID"):
        for op in operators:
            for number, target in enumerate(targets):
                name = f"{id_type}_{op}_{number}"
                specs["condition_map"][name] = {
                    "type": "unit_id", "operator": op, "targetValue": target, "field": None,
                    "idType": id_type, "additionalValues": {},
                }  # fmt: skip
                specs["feature_gates"][name] = {
                    "name": name, "type": "feature_gate", "entity": "feature_gate",
                    "salt": name, "enabled": True, "defaultValue": False, "idType": id_type,
                    "rules": [{"name": "r", "id": "r", "salt": "r", "passPercentage": 100,
                               "conditions": [name], "returnValue": True, "idType": id_type}],
                }  # fmt: skip
    rows: list[dict[str, Any]] = [
        {},
        {"user_id": ""},
        {"user_id": "x", "custom_ids": {"companyID": ""}},
        {"user_id": "x", "custom_ids": {"companyid": "x"}},
        {"custom_ids": {"companyID": "0"}},
        {"user_id": "0", "custom": {"companyID": "x"}},
    ]
    _verify(tmp_path, specs, rows)
