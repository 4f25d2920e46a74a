"""Hypothesis strategy: Statsig config specs using every construct the importer takes.

:func:`payloads` draws a ``dcs-v2`` download (what Statsig's server SDK fetches) with:

- feature gates, a segment (``segment:...``) and a holdout (``holdout:...``), some
  disabled, some on a custom unit (``idType: companyID``);
- dynamic configs with a default value and a value per rule;
- rules with pass percentages (0, fractions, 100), their own ids and salts, and one to
  three conditions of every type the importer translates: ``public``, ``user_field``
  with every operator (case variants of field names, built-in and custom fields),
  ``unit_id`` on the user id and on custom ids, ``environment_field`` (tier),
  ``current_time``, ``pass_gate``/``fail_gate`` on gates, segments, holdouts and a
  gate that does not exist.

The attributes match those of :func:`import_proof.odd_users`; :func:`statsig_users`
adds the gaps in units Statsig reads (no or an empty user id or custom id, a custom id
in lower case, an attribute named like the custom id type).
"""

from __future__ import annotations

import random
import time
from typing import Any

from hypothesis import strategies as st
from import_proof import odd_users

from flagport.importers.statsig import STATSIG_OPERATORS

_NOW_MS = int(time.time() * 1000)
_DAY_MS = 86_400_000
FIELDS = ("plan", "Plan", "age", "version", "tags", "company", "email", "Email", "country",
          "appVersion", "app_version", "userID", "locale", "name", "companyID")  # fmt: skip
_TEXT = ["pro", "PRO", "free", "", "18", "40", "acme", "c1", "7", "@acme.com", "ünï", "1.2.3"]
_TARGETS: dict[str, st.SearchStrategy[Any]] = {
    "number": st.sampled_from([0, 18, 40, 2.5, "18", "abc", None, 7]),
    "version": st.sampled_from(["1.2.3", "1.2", "1.10", "2", "1.2.3-beta", "v1", "", 1, None]),
    # Now and then not a list: Statsig's list operators then fail (or hold, negated).
    "list": st.one_of(
        *[st.lists(st.one_of(st.sampled_from(_TEXT), st.sampled_from([7, 18])), max_size=4)] * 4,
        st.sampled_from(["", "pro", None, 7]),
    ),
    "regex": st.sampled_from(["^pro$", "^P", "[0-9]+", "acme", "", "ü"]),
    "time": st.sampled_from(
        [_NOW_MS - _DAY_MS, _NOW_MS + _DAY_MS, "2023-01-02T00:00:00Z", 1_700_000_000]
    ),
    "eq": st.one_of(st.sampled_from(_TEXT), st.sampled_from([18, 7, None, True, ["pro"]])),
}
_KIND: dict[str, str] = {
    **dict.fromkeys(("gt", "gte", "lt", "lte"), "number"),
    **{op: "version" for op in STATSIG_OPERATORS if op.startswith("version_")},
    "str_matches": "regex",
    **dict.fromkeys(("before", "after", "on"), "time"),
    **dict.fromkeys(("eq", "neq"), "eq"),
}
_OPERATORS = sorted(
    op for op in STATSIG_OPERATORS if "segment_list" not in op and _KIND.get(op) != "time"
)
_REFERENCED = ("base_pro", "segment:adults", "holdout:h1", "no_such_gate")


def _condition(kind: str, op: str | None = None, target: Any = None, **more: Any) -> Any:
    return {
        "type": kind,
        "operator": op,
        "targetValue": target,
        "field": more.get("field"),
        "idType": more.get("id_type", "userID"),
        "additionalValues": {},
    }


@st.composite
def conditions(draw: st.DrawFn) -> dict[str, Any]:
    """One Statsig condition of any type the importer translates."""
    kind = draw(
        st.sampled_from(
            ["user_field"] * 5
            + ["unit_id", "unit_id", "environment_field", "current_time"]
            + ["pass_gate", "fail_gate", "public"]
        )
    )
    if kind == "public":
        return _condition(kind)
    if kind in ("pass_gate", "fail_gate"):
        return _condition(kind, None, draw(st.sampled_from(_REFERENCED)))
    if kind == "current_time":
        op = draw(st.sampled_from(["before", "after", "on"]))
        return _condition(kind, op, draw(_TARGETS["time"]))
    op = draw(st.sampled_from(_OPERATORS))
    target = draw(_TARGETS[_KIND.get(op, "list")])
    if kind == "unit_id":
        return _condition(kind, op, target, id_type=draw(st.sampled_from(["userID", "companyID"])))
    if kind == "environment_field":
        return _condition(kind, op, target, field="tier")
    return _condition(kind, op, target, field=draw(st.sampled_from(FIELDS)))


def _spec(name: str, entity: str, rules: list[dict[str, Any]], **more: Any) -> dict[str, Any]:
    config = entity == "dynamic_config"
    return {
        "name": name,
        "type": "dynamic_config" if config else "feature_gate",
        "entity": entity,
        "salt": more.get("salt", f"{name}_salt"),
        "enabled": more.get("enabled", True),
        "defaultValue": more.get("default", {} if config else False),
        "idType": more.get("id_type", "userID"),
        "rules": rules,
    }


class _Builder:
    """Collects conditions into the payload's ``condition_map``, as Statsig ships them."""

    def __init__(self) -> None:
        self.condition_map: dict[str, Any] = {}

    def rule(
        self, rule_id: str, found: list[dict[str, Any]], percentage: float, **more: Any
    ) -> dict[str, Any]:
        refs = []
        for item in found:
            refs.append(f"cond_{len(self.condition_map)}")
            self.condition_map[refs[-1]] = item
        return {
            "name": rule_id,
            "id": rule_id,
            "salt": more.get("salt", f"{rule_id}_salt"),
            "passPercentage": percentage,
            "conditions": refs,
            "returnValue": more.get("value", True),
            "idType": more.get("id_type", "userID"),
        }


_percentages = st.sampled_from([100, 100, 100, 50, 33.3, 0, 99.9])
config_values = st.dictionaries(
    st.sampled_from(["discount", "plan", "ü"]),
    st.one_of(st.integers(0, 50), st.sampled_from(["a", "", "ü"]), st.booleans(), st.none()),
    max_size=3,
)


@st.composite
def payloads(draw: st.DrawFn) -> dict[str, Any]:
    """A ``dcs-v2`` config specs download (see the module docstring)."""
    build = _Builder()
    pro = _condition("user_field", "any", ["pro"], field="plan")
    adult = _condition("user_field", "gte", 18, field="age")
    gates: dict[str, Any] = {
        "base_pro": _spec("base_pro", "feature_gate", [build.rule("r_pro", [pro], 100)]),
        "segment:adults": _spec("segment:adults", "segment", [build.rule("r_adult", [adult], 100)]),
        "holdout:h1": _spec(
            "holdout:h1", "holdout", [build.rule("r_hold", [_condition("public")], 30)]
        ),
    }
    configs: dict[str, Any] = {}
    for number in range(draw(st.integers(2, 6))):
        config = draw(st.integers(0, 2)) == 0
        unit = draw(st.sampled_from(["userID", "userID", "companyID"]))
        rules = []
        for index in range(draw(st.integers(1, 3))):
            rule_id = f"n{number}_r{index}"
            found = draw(st.lists(conditions(), min_size=1, max_size=3))
            value = draw(config_values) if config else True
            percentage = draw(_percentages)
            rules.append(build.rule(rule_id, found, percentage, value=value, id_type=unit))
        name = f"{'config' if config else 'gate'}_{number}"
        spec = _spec(
            name,
            "dynamic_config" if config else "feature_gate",
            rules,
            id_type=unit,
            enabled=draw(st.integers(0, 5)) > 0,
            **({"default": draw(config_values)} if config else {}),
        )
        (configs if config else gates)[name] = spec
    return {
        "has_updates": True,
        "time": 1_700_000_000_000,
        "response_format": "dcs-v2",
        "company_id": "flagport-proof",
        "feature_gates": gates,
        "dynamic_configs": configs,
        "layer_configs": {},
        "experiment_to_layer": {},
        "condition_map": build.condition_map,
        "diagnostics": None,
    }


def statsig_users(count: int, seed: int) -> list[dict[str, Any]]:
    """:func:`import_proof.odd_users` with the gaps in the units Statsig reads.

    Some users have no user id or an empty one, no ``companyID`` custom id, an empty
    one or one under ``companyid``; some carry an attribute ``companyID`` (custom or
    private), which Statsig's SDK never takes for the unit.
    """
    rng = random.Random(seed)
    rows = odd_users(count, seed)
    for row in rows:
        company = row["custom_ids"]["companyID"]
        roll = rng.random()
        if roll < 0.15:
            del row["custom_ids"]
        elif roll < 0.2:
            row["custom_ids"] = {"companyID": ""}
        elif roll < 0.27:
            row["custom_ids"] = {"companyid": company}
        roll = rng.random()
        if roll < 0.15:
            row["custom"]["companyID"] = rng.choice(("c1", "7", "", company))
        elif roll < 0.2:
            row["private"] = {"companyID": rng.choice(("c2", company))}
        roll = rng.random()
        if roll < 0.04:
            del row["user_id"]
        elif roll < 0.08:
            row["user_id"] = ""
    return rows
