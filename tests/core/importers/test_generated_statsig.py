"""Generated Statsig config specs import and verify with 0 mismatches over 2,000 users.

Each example is a ``dcs-v2`` download from :func:`statsig_payloads.payloads` (gates,
segments, holdouts, dynamic configs, custom units, every condition type the importer
translates); ``flagport import statsig --verify`` compares Statsig's own SDK (offline,
bootstrapped with the download) with the local provider on the written file for 2,000
users with odd attributes and gaps in their units (:func:`statsig_payloads.statsig_users`).
Raise the examples for a long run:
``FLAGPORT_PROOF_EXAMPLES=200 uv run pytest tests/core/importers/test_generated_statsig.py``.
"""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import example, given
from import_proof import proof_settings, proof_timeout, verify_payload
from statsig_payloads import payloads, statsig_users

USERS = statsig_users(2_000, seed=16)
#: A disabled gate: Statsig's SDK still runs its rules (the import wrote enabled: false).
DISABLED_GATE = {
    "has_updates": True, "time": 1_700_000_000_000, "response_format": "dcs-v2",
    "feature_gates": {
        "off": {
            "name": "off", "type": "feature_gate", "entity": "feature_gate", "salt": "s",
            "enabled": False, "defaultValue": False, "idType": "userID",
            "rules": [{"name": "r", "id": "r", "salt": "r", "passPercentage": 50,
                       "conditions": ["all"], "returnValue": True, "idType": "userID"}],
        }
    },
    "dynamic_configs": {}, "layer_configs": {}, "experiment_to_layer": {},
    "condition_map": {"all": {"type": "public", "idType": "userID", "additionalValues": {},
                              "operator": None, "targetValue": None, "field": None}},
}  # fmt: skip
#: array_contains_none against a target that is not a list: Statsig's array tests fail
#: outright (the import wrote an always-true condition, as for the negated text tests).
ARRAY_NONE_TEXT = {
    **DISABLED_GATE,
    "feature_gates": {
        "tagged": {
            **DISABLED_GATE["feature_gates"]["off"], "name": "tagged", "enabled": True,
            "rules": [{"name": "r", "id": "r", "salt": "r", "passPercentage": 100,
                       "conditions": ["no_tag"], "returnValue": True, "idType": "userID"}],
        }
    },
    "condition_map": {"no_tag": {"type": "user_field", "operator": "array_contains_none",
                                 "targetValue": "pro", "field": "tags", "idType": "userID",
                                 "additionalValues": {}}},
}  # fmt: skip

#: A rollout on a custom id type: Statsig's unit is the custom id only, so a user with an
#: attribute companyID and no custom id is hashed as "" (the file hashed the attribute).
COMPANY_ROLLOUT = {
    **DISABLED_GATE,
    "feature_gates": {
        "by_company": {
            **DISABLED_GATE["feature_gates"]["off"], "name": "by_company", "enabled": True,
            "idType": "companyID",
            "rules": [{"name": "r", "id": "r", "salt": "r", "passPercentage": 50,
                       "conditions": ["all"], "returnValue": True, "idType": "companyID"}],
        }
    },
}  # fmt: skip


@pytest.mark.slow
@proof_timeout
@proof_settings
@given(payloads())
@example(DISABLED_GATE)
@example(ARRAY_NONE_TEXT)
@example(COMPANY_ROLLOUT)
def test_generated_statsig_payload_verifies_over_2000_users(payload: dict[str, Any]) -> None:
    verify_payload("statsig", payload, USERS)


def test_a_condition_used_twice_is_written_out_twice_not_as_a_yaml_alias() -> None:
    from flagport.importers.run import dump, import_payload

    spec = dict(DISABLED_GATE)
    never = {"type": "fail_gate", "idType": "userID", "targetValue": None, "additionalValues": {}}
    rules = [{**DISABLED_GATE["feature_gates"]["off"]["rules"][0], "id": i, "conditions": ["x"]}
             for i in ("a", "b")]  # fmt: skip
    spec["feature_gates"] = {"g": {**DISABLED_GATE["feature_gates"]["off"], "rules": rules}}
    spec["condition_map"] = {"x": never}  # a reference Statsig cannot use: never matches
    text = dump(import_payload("statsig", spec).flags, "flags.yaml")
    assert "&id" not in text
    assert "*id" not in text
    assert text.count("$not: {}") == 2
