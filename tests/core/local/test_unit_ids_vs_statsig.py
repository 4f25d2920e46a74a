"""Which unit id Statsig finds for an id type, pinned against Statsig's own SDK.

Statsig's ``get_unit_id``: ``userID`` (any case) is the user's id; any other id type,
``user_id`` included, is a ``custom_ids`` key, looked up as written and then in lower
case (an empty id as written is kept). Imported Statsig definitions must find the same
unit in ``unit_id`` conditions, pass percentages and ``user_bucket`` conditions, for
users with both ``companyID`` and ``companyid``, one of them in either case, empty ids,
and a custom id named ``user_id``. Examples next to the Hypothesis test
(``test_conditions_vs_statsig.py``), which draws such users at random.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import vendor_defs as defs  # tests/support, on pytest's pythonpath

from flagport import User
from flagport.importers.statsig import import_statsig
from flagport.providers.local import LocalProvider

ID_TYPES = ["companyID", "companyid", "COMPANYID", "CompanyId", "userID", "USERID",
            "user_id", "USER_ID"]  # fmt: skip
CUSTOM_IDS: list[dict[str, str]] = [
    {},
    {"companyID": "X"},
    {"companyid": "X"},
    {"COMPANYID": "X"},
    {"companyID": "X", "companyid": "Y"},
    {"companyid": "Y", "companyID": "X"},
    {"companyID": "Y", "companyid": "X"},
    {"companyID": "", "companyid": "X"},
    {"companyID": "X", "companyid": ""},
    {"CompanyId": "Y", "companyid": "X"},
    {"user_id": "X"},
    {"USER_ID": "X", "user_id": "Y"},
    {"userID": "X"},
]


def _condition(kind: str, id_type: str, op: str | None, target: Any, salt: str = "") -> Any:
    return {"type": kind, "operator": op, "targetValue": target, "field": None,
            "additionalValues": {"salt": salt}, "idType": id_type}  # fmt: skip


def _gate(name: str, condition: str, id_type: str = "userID", percent: float = 100) -> Any:
    rule = {"name": name, "id": name, "salt": f"{name}_salt", "passPercentage": percent,
            "conditions": [condition], "returnValue": True, "idType": id_type}  # fmt: skip
    return {"type": "feature_gate", "entity": "feature_gate", "salt": f"{name}_salt",
            "enabled": True, "defaultValue": False, "idType": id_type, "rules": [rule]}  # fmt: skip


def _spec() -> dict[str, Any]:
    conditions: dict[str, Any] = {"public": _condition("public", "userID", None, None)}
    gates: dict[str, Any] = {}
    for index, id_type in enumerate(ID_TYPES):
        tests = {
            "is_x": ("unit_id", "any", ["X"]),
            "not_x": ("unit_id", "none", ["X"]),
            "empty": ("unit_id", "eq", ""),
            "bucket": ("user_bucket", "lt", 500),
        }
        for label, (kind, op, target) in tests.items():
            key = f"{label}_{index}"
            conditions[key] = _condition(kind, id_type, op, target, salt=f"s{index}")
            gates[f"{label}:{id_type}"] = _gate(key, key)
        gates[f"half:{id_type}"] = _gate(f"half_{index}", "public", id_type, percent=50)
    return {
        "has_updates": True, "time": 1_700_000_000_000, "response_format": "dcs-v2",
        "company_id": "flagport-unit-ids", "feature_gates": gates, "dynamic_configs": {},
        "layer_configs": {}, "experiment_to_layer": {}, "condition_map": conditions,
        "diagnostics": None,
    }  # fmt: skip


SPEC = _spec()


@pytest.fixture(scope="module")
def both() -> Iterator[tuple[LocalProvider, Any]]:
    imported = import_statsig(SPEC)
    assert imported.left_out == []
    provider = LocalProvider(LocalProvider.Options(flags=imported.flags, watch=False))
    provider.start()
    statsig = defs.offline_statsig(SPEC)
    try:
        yield provider, statsig
    finally:
        statsig.shutdown().wait(5)


def _answers(both: tuple[LocalProvider, Any], custom_ids: dict[str, str]) -> dict[str, Any]:
    from statsig_python_core import StatsigUser

    provider, statsig = both
    mismatches = {}
    for user_id in ("u1", "X", "u7"):
        ours = User(user_id=user_id, custom_ids=custom_ids)
        theirs = StatsigUser(user_id=user_id, custom_ids=custom_ids or None)
        for name in SPEC["feature_gates"]:
            expected = statsig.check_gate(theirs, name)
            got = provider.evaluate_gate(ours, name).value
            if got != expected:
                mismatches[f"{name} user_id={user_id}"] = (expected, got)
    return mismatches


@pytest.mark.parametrize("custom_ids", CUSTOM_IDS, ids=repr)
def test_imported_gates_find_the_unit_statsig_finds(
    both: tuple[LocalProvider, Any], custom_ids: dict[str, str]
) -> None:
    assert _answers(both, custom_ids) == {}, "(statsig, flagport) differ"


@pytest.mark.parametrize("company", [f"c{n}" for n in range(12)])
def test_custom_id_buckets_split_as_statsig_does(
    both: tuple[LocalProvider, Any], company: str
) -> None:
    # Many ids, so pass percentages and buckets on each id type both pass and fail.
    assert _answers(both, {"companyid": company, "user_id": company[::-1]}) == {}


@pytest.mark.parametrize(
    ("custom_ids", "id_type", "found"),
    [
        ({"companyID": "X", "companyid": "Y"}, "companyID", "X"),  # as written first
        ({"companyID": "X", "companyid": "Y"}, "companyid", "Y"),
        ({"companyID": "X", "companyid": "Y"}, "COMPANYID", "Y"),  # then in lower case
        ({"companyID": "X"}, "companyid", None),  # never the other way round
        ({"companyID": "", "companyid": "X"}, "companyID", ""),  # an empty id is kept
        ({"user_id": "X"}, "user_id", "X"),  # user_id is a custom id to Statsig
        ({"user_id": "X"}, "userID", "u1"),  # userID (any case) is the user's id
        ({"userID": "X"}, "USERID", "u1"),
    ],
)
def test_statsig_sdk_finds_the_unit_id_as_pinned(
    both: tuple[LocalProvider, Any], custom_ids: dict[str, str], id_type: str, found: str | None
) -> None:
    from statsig_python_core import StatsigUser

    provider, statsig = both
    user = StatsigUser(user_id="u1", custom_ids=custom_ids)
    assert statsig.check_gate(user, f"is_x:{id_type}") == (found == "X")
    assert statsig.check_gate(user, f"empty:{id_type}") == (found == "")
    ours = User(user_id="u1", custom_ids=custom_ids)
    assert provider.evaluate_gate(ours, f"is_x:{id_type}").value == (found == "X")
    assert provider.evaluate_gate(ours, f"empty:{id_type}").value == (found == "")
