"""Differential test: Statsig definitions, imported, answer as Statsig's own SDK does.

Hypothesis writes Statsig config specs (``dcs-v2``) with every condition type the
importer translates: ``user_field`` with every operator, ``unit_id`` on the user id and
on custom ids, ``environment_field`` (tier), ``current_time``, ``pass_gate`` /
``fail_gate`` on gates, segments (``segment:...``) and holdouts, ``public``, and pass
percentages. :func:`flagport.importers.statsig.import_statsig` turns them into a flags
file with ``semantics: statsig``; the local provider and ``statsig_python_core``
(offline, fed the same specs) then evaluate every gate for users with odd attributes
(numbers as text, text as numbers, case variants of field names, versions with
suffixes, lists, dates, missing fields). Every answer must be identical.
"""

from __future__ import annotations

import time
from typing import Any

import pytest
import vendor_defs as defs  # tests/support, on pytest's pythonpath
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from flagport import User
from flagport.importers.statsig import STATSIG_OPERATORS, import_statsig
from flagport.providers.local import LocalProvider

NOW_MS = int(time.time() * 1000)
DAY_MS = 86_400_000

FIELDS = ["plan", "Plan", "PLAN", "age", "version", "tags", "created", "email", "Email",
          "country", "userID", "appVersion", "app_version", "locale", "$groups", "a.b"]  # fmt: skip
CUSTOM_KEYS = ["plan", "age", "version", "tags", "created", "$groups", "a.b", "Plan"]
STRINGS = ["pro", "PRO", "Pro", "", "1", "1.0", "10", "2.5", "abc", "1.2.3", "1.2.3-beta",
           "v1.2", "1.2", "1.10.0", "2023-01-02T00:00:00Z", "2023-01-02 00:00:00",
           "1700000000", "ü", "true", " 7", "1e3"]  # fmt: skip
NUMBERS = [0, 1, 10, -1, 2.5, 1.0, 1_700_000_000, 1_700_000_000_000, NOW_MS]
scalars = st.one_of(st.sampled_from(STRINGS), st.sampled_from(NUMBERS), st.booleans(), st.none())
values = st.one_of(
    scalars, st.lists(st.one_of(st.sampled_from(STRINGS[:6]), st.sampled_from([1, 10])), max_size=3)
)

TIMES = [NOW_MS - DAY_MS, NOW_MS + DAY_MS, NOW_MS - 3_600_000, "2023-01-02T00:00:00Z",
         "2030-01-02 00:00:00", 1_700_000_000_000, 1_700_000_000]  # fmt: skip
TEXTS = ["pro", "PRO", "1", "10", "", "abc", "1.2.3", "true", "@acme.com", "pr", "o", ".3"]
TARGETS: dict[str, st.SearchStrategy[Any]] = {
    "number": st.sampled_from([0, 1, 10, 2.5, "10", "abc", True, None, 1_700_000_000]),
    "version": st.sampled_from(["1.2.3", "1.2", "1.10", "2", "1.2.3-beta", "v1", "", 1, None]),
    "list": st.lists(st.one_of(st.sampled_from(TEXTS), st.sampled_from([1, 10])), max_size=4),
    "regex": st.sampled_from(["^pro$", "^P", "[0-9]+", "^[0-9]+[.][0-9]+", "", "O"]),
    "time": st.sampled_from(TIMES),
    "eq": st.one_of(scalars, st.sampled_from([["pro"], [1, "a"], []])),
}
KIND_OF_OPERATOR = {
    **dict.fromkeys(("gt", "gte", "lt", "lte"), "number"),
    **{op: "version" for op in STATSIG_OPERATORS if op.startswith("version_")},
    **dict.fromkeys(("str_matches",), "regex"),
    **dict.fromkeys(("before", "after", "on"), "time"),
    **dict.fromkeys(("eq", "neq"), "eq"),
}
OPERATORS = sorted(op for op in STATSIG_OPERATORS if "segment_list" not in op)
BASE_GATES = ["base_pro", "segment:adults", "holdout:h1"]


def condition(kind: str, operator: str | None, target: Any, **extra: Any) -> dict[str, Any]:
    return {"type": kind, "operator": operator, "targetValue": target,
            "field": extra.get("field"), "additionalValues": {},
            "idType": extra.get("id_type", "userID")}  # fmt: skip


@st.composite
def statsig_conditions(draw: st.DrawFn) -> dict[str, Any]:
    kind = draw(
        st.sampled_from(
            ["user_field"] * 6
            + ["unit_id", "environment_field", "current_time", "pass_gate", "fail_gate", "public"]
        )
    )
    if kind == "public":
        return condition("public", None, None)
    if kind in ("pass_gate", "fail_gate"):
        return condition(kind, None, draw(st.sampled_from([*BASE_GATES, "no_such_gate"])))
    if kind == "current_time":
        op = draw(st.sampled_from(["before", "after", "on"]))
        return condition(kind, op, draw(TARGETS["time"]))
    op = draw(st.sampled_from(OPERATORS))
    target = draw(TARGETS[KIND_OF_OPERATOR.get(op, "list")])
    if kind == "unit_id":
        id_type = draw(st.sampled_from(["userID", "companyID", "companyid"]))
        return condition(kind, op, target, id_type=id_type)
    if kind == "environment_field":
        return condition(kind, op, target, field="tier")
    return condition(kind, op, target, field=draw(st.sampled_from(FIELDS)))


def gate(name: str, rules: list[dict[str, Any]], entity: str = "feature_gate") -> dict[str, Any]:
    return {"type": "feature_gate", "entity": entity, "salt": f"{name}_salt", "enabled": True,
            "defaultValue": False, "idType": "userID", "rules": rules}  # fmt: skip


def rule(rule_id: str, conditions: list[str], pass_percentage: float = 100) -> dict[str, Any]:
    return {"name": rule_id, "id": rule_id, "salt": f"{rule_id}_salt",
            "passPercentage": pass_percentage, "conditions": conditions,
            "returnValue": True, "idType": "userID"}  # fmt: skip


@st.composite
def specs(draw: st.DrawFn) -> dict[str, Any]:
    condition_map: dict[str, Any] = {}

    def ref(cond: dict[str, Any]) -> str:
        key = f"c{len(condition_map)}"
        condition_map[key] = cond
        return key

    pro = ref(condition("user_field", "any", ["pro"], field="plan"))
    adult = ref(condition("user_field", "gte", 18, field="age"))
    everyone = ref(condition("public", None, None))
    gates = {
        "base_pro": gate("base_pro", [rule("r_pro", [pro])]),
        "segment:adults": gate("segment:adults", [rule("r_adult", [adult])], entity="segment"),
        "holdout:h1": gate("holdout:h1", [rule("r_hold", [everyone], 30)], entity="holdout"),
    }
    for index in range(draw(st.integers(20, 40))):
        rules = []
        for r in range(draw(st.integers(1, 2))):
            conds = draw(st.lists(statsig_conditions(), min_size=1, max_size=2))
            pct = draw(st.sampled_from([100, 100, 100, 50, 0]))
            rules.append(rule(f"g{index}_r{r}", [ref(c) for c in conds], pct))
        gates[f"g{index}"] = gate(f"g{index}", rules)
    return {
        "has_updates": True, "time": 1_700_000_000_000, "response_format": "dcs-v2",
        "company_id": "flagport-differential", "feature_gates": gates, "dynamic_configs": {},
        "layer_configs": {}, "experiment_to_layer": {}, "condition_map": condition_map,
        "diagnostics": None,
    }  # fmt: skip


users = st.fixed_dictionaries(
    {
        "user_id": st.sampled_from(["u1", "u2", "U1", "123", "1.2.3", "pro"]),
        "custom": st.dictionaries(st.sampled_from(CUSTOM_KEYS), values, max_size=4),
        "private": st.dictionaries(st.sampled_from(["age", "secret", "Plan"]), values, max_size=2),
        "custom_ids": st.dictionaries(
            st.sampled_from(["companyID", "companyid"]),
            st.sampled_from(["c1", "PRO", "10", ""]),
            max_size=2,
        ),
        "tier": st.sampled_from([None, "production", "staging", "Production"]),
    },
    optional={
        "email": st.sampled_from(["a@acme.com", "B@ACME.COM", "", "pro@x.io"]),
        "country": st.sampled_from(["US", "us", "", "DE"]),
        "app_version": st.sampled_from(["1.2.3", "1.10.0-beta", "2", "", "v1"]),
        "locale": st.sampled_from(["en_US", "1.2"]),
    },
)


def both(spec: dict[str, Any]) -> tuple[LocalProvider, Any]:
    imported = import_statsig(spec)
    assert imported.left_out == []
    provider = LocalProvider(LocalProvider.Options(flags=imported.flags, watch=False))
    provider.start()
    return provider, defs.offline_statsig(spec)


@settings(
    max_examples=15,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(spec=specs(), people=st.lists(users, min_size=40, max_size=80))
def test_imported_statsig_gates_answer_as_statsig_does(
    spec: dict[str, Any], people: list[dict[str, Any]]
) -> None:
    from statsig_python_core import StatsigUser

    provider, statsig = both(spec)
    try:
        mismatches = []
        outcomes = set()
        for person in people:
            tier = person["tier"]
            fields = {k: v for k, v in person.items() if k != "tier"}
            ours = User(**fields, environment_tier=tier)
            theirs = StatsigUser(
                **{k: v for k, v in fields.items() if k not in ("custom", "private", "custom_ids")},
                custom_ids=person["custom_ids"] or None,
                custom=person["custom"] or None,
                private_attributes=person["private"] or None,
                statsig_environment={"tier": tier} if tier else None,
            )
            for name in spec["feature_gates"]:
                expected = statsig.check_gate(theirs, name)
                got = provider.evaluate_gate(ours, name).value
                outcomes.add(got)
                if got != expected:
                    mismatches.append((name, person, expected, got))
        assert not mismatches, _describe(spec, mismatches[:3])
        event(f"answers seen: {sorted(outcomes)}")
    finally:
        statsig.shutdown().wait(5)


def _describe(spec: dict[str, Any], mismatches: list[Any]) -> str:
    lines = []
    for name, person, expected, got in mismatches:
        gate_spec = spec["feature_gates"][name]
        conds = [[spec["condition_map"][c] for c in r["conditions"]] for r in gate_spec["rules"]]
        lines.append(f"{name}: statsig={expected} flagport={got} user={person} rules={conds}")
    return "\n".join(lines)


_MISSING = object()


@pytest.mark.parametrize(
    ("operator", "target", "value", "expected"),
    [
        # Statsig files a list under lower-case keys, the last spelling winning: a
        # case-sensitive test sees only "PRO" in ["pro", "PRO"] (found by Hypothesis).
        ("any_case_sensitive", ["pro", "PRO"], "pro", False),
        ("any_case_sensitive", ["pro", "PRO"], "PRO", True),
        ("any_case_sensitive", ["PRO", "pro"], "pro", True),
        ("any_case_sensitive", ["pro", "PRO", "pro"], "pro", True),
        ("none_case_sensitive", ["pro", "PRO"], "pro", True),
        ("none_case_sensitive", ["pro", "PRO"], "PRO", False),
        ("array_contains_any", ["pro", "PRO"], ["pro"], False),
        ("array_contains_all", ["pro", "PRO"], ["PRO"], True),
        ("array_contains_none", ["pro", "PRO"], ["pro"], True),
        ("not_array_contains_all", ["Pro", "pRo", "PRO"], ["PRO"], False),
        # Tests that ignore case are not touched by it.
        ("any", ["pro", "PRO"], "Pro", True),
        ("none", ["pro", "PRO"], "pRo", False),
        # A missing value: no version to compare (every version test fails, _neq too),
        # the empty text for the list tests.
        ("version_neq", "1.2.3", _MISSING, False),
        ("version_eq", "1.2.3", _MISSING, False),
        ("version_gt", "1.2.3", _MISSING, False),
        ("version_lt", "1.2.3", _MISSING, False),
        ("none", ["pro"], _MISSING, True),
        ("none_case_sensitive", ["pro"], _MISSING, True),
        ("neq", "pro", _MISSING, True),
        ("array_contains_none", ["pro"], _MISSING, False),
        ("not_array_contains_all", ["pro"], _MISSING, False),
    ],
)
def test_statsig_answers_pinned_examples_the_same(
    operator: str, target: Any, value: Any, expected: bool
) -> None:
    from statsig_python_core import StatsigUser

    spec = {
        "has_updates": True, "time": 1_700_000_000_000, "response_format": "dcs-v2",
        "company_id": "flagport-examples", "dynamic_configs": {}, "layer_configs": {},
        "experiment_to_layer": {}, "diagnostics": None,
        "condition_map": {"c": condition("user_field", operator, target, field="plan")},
        "feature_gates": {"g": gate("g", [rule("r", ["c"])])},
    }  # fmt: skip
    custom = {} if value is _MISSING else {"plan": value}
    provider, statsig = both(spec)
    try:
        theirs = statsig.check_gate(StatsigUser(user_id="u1", custom=custom or None), "g")
        ours = provider.evaluate_gate(User(user_id="u1", custom=custom), "g").value
    finally:
        statsig.shutdown().wait(5)
    assert (theirs, ours) == (expected, expected)
