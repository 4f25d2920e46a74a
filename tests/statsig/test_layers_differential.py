"""Differential test: Statsig layers, experiments and ``user_bucket`` conditions, imported
into a flags file, answer as Statsig's own SDK does.

Hypothesis writes config specs (``dcs-v2``) the way Statsig's console does: layers
whose rules allocate buckets of the layer's salt to experiments (``user_bucket`` ``any``
with ``configDelegate``), experiments with a ``layerAssignment`` rule (``user_bucket``
``none`` on the layer's salt), targeting gates and holdouts (``fail_gate`` /
``pass_gate``), group rules on the experiment's salt with every operator a bucket can
be tested with, and gates with ``user_bucket`` conditions of random salts, units
(user id, custom ids in any case) and pass percentages. The Statsig provider runs
``statsig_python_core`` offline on the specs; the local provider runs the imported
file. Every gate value, experiment group, value and ``in_experiment``, and every
layer's parameters must be identical, for thousands of users (with and without the
custom id, with an empty or missing user id).
"""

from __future__ import annotations

import random
from typing import Any

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from flagport import User
from flagport.importers.statsig import import_statsig
from flagport.providers.local import LocalProvider
from flagport_statsig import StatsigProvider
from flagport_statsig.testing import SpecsBuilder, public, rule, user_field

UNITS = ["userID", "companyID", "CompanyID"]
BUCKET_OPERATORS = ["lt", "lte", "gt", "gte", "any", "none", "eq", "neq"]
USERS_PER_EXAMPLE = 250  # 10 examples: 2,500 users, every flag for each


def user_bucket(salt: str, operator: str, target: Any, id_type: str = "userID") -> dict[str, Any]:
    """Statsig's ``user_bucket`` condition: the unit's bucket (0-999) for ``salt``."""
    return {"type": "user_bucket", "targetValue": target, "operator": operator, "field": None,
            "additionalValues": {"salt": salt}, "idType": id_type}  # fmt: skip


def gate_ref(kind: str, gate: str) -> dict[str, Any]:
    return {"type": kind, "targetValue": gate, "operator": None, "field": None,
            "additionalValues": {}, "idType": "userID"}  # fmt: skip


@st.composite
def bucket_condition(draw: st.DrawFn, salt: str, id_type: str) -> dict[str, Any]:
    operator = draw(st.sampled_from(BUCKET_OPERATORS))
    if operator in ("any", "none"):
        target: Any = draw(
            st.lists(
                st.one_of(st.integers(0, 999), st.integers(0, 999).map(str)),
                min_size=1,
                max_size=300,
            )
        )
    elif operator in ("eq", "neq"):
        target = draw(st.integers(0, 999))
    else:
        target = draw(st.integers(-1, 1001))
    return user_bucket(salt, operator, target, id_type)


def _buckets(rng: random.Random, share: int) -> list[int]:
    return sorted(rng.sample(range(1000), share))


@st.composite
def specs(draw: st.DrawFn) -> dict[str, Any]:
    rng = random.Random(draw(st.integers(0, 2**32)))
    builder = SpecsBuilder()
    builder.gate("targeting", [rule("pro", [user_field("plan", "any", ["pro"])])])
    holdout_pct = draw(st.sampled_from([0, 10, 50]))
    builder.gate("holdout:h1", [rule("hold", [public()], pass_percentage=holdout_pct)])
    data = builder.build()
    gates = data["feature_gates"]
    gates["holdout:h1"]["entity"] = "holdout"
    experiments: dict[str, Any] = {}
    layers: dict[str, Any] = {}
    conditions: list[dict[str, Any]] = []

    for layer_index in range(draw(st.integers(1, 2))):
        layer = f"layer{layer_index}"
        layer_salt = f"{layer}_salt_{rng.randrange(10**6)}"
        layer_unit = draw(st.sampled_from(UNITS))
        free = list(range(1000))
        rng.shuffle(free)
        layer_rules = []
        for exp_index in range(draw(st.integers(1, 3))):
            name = f"{layer}_exp{exp_index}"
            share = draw(st.integers(0, 400))
            allocated, free = sorted(free[:share]), free[share:]
            exp_salt = f"{name}_salt_{rng.randrange(10**6)}"
            unit = layer_unit if draw(st.booleans()) else draw(st.sampled_from(UNITS))
            params = {"color": f"{name}_default", "size": 0}
            rules = []
            if draw(st.booleans()):
                # layerAssignment: units outside this experiment's buckets get the default.
                assignment = rule("layerAssignment", [user_bucket(layer_salt, "none", allocated,
                                  layer_unit)], value=params, id_type=layer_unit)  # fmt: skip
                rules.append(assignment)
            if draw(st.booleans()):
                rules.append(rule("targetingGate", [gate_ref("fail_gate", "targeting")],
                                  value=params, id_type=unit))  # fmt: skip
            if draw(st.booleans()):
                rules.append(rule("holdout", [gate_ref("pass_gate", "holdout:h1")],
                                  value=params, id_type=unit))  # fmt: skip
            bounds = [*sorted(rng.sample(range(1, 1000), draw(st.integers(1, 3)) - 1)), 1000]
            for group_index, bound in enumerate(bounds):
                group = f"g{group_index}"
                conds = [user_bucket(exp_salt, "lt", bound, unit)]
                if draw(st.integers(0, 4)) == 0:
                    conds.append(draw(bucket_condition(exp_salt, unit)))
                value = {"color": f"{name}_{group}", "size": group_index + 1}
                group_rule = rule(f"{name}.{group}", conds, value=value, id_type=unit)
                group_rule.update(groupName=group, isExperimentGroup=True)
                rules.append(group_rule)
            if draw(st.integers(0, 3)) == 0:
                rules.append(rule("partial", [public()], pass_percentage=50,
                                  value={"color": "partial"}, id_type=unit))  # fmt: skip
            experiments[name] = {
                "type": "dynamic_config", "entity": "experiment", "salt": exp_salt,
                "enabled": True, "isActive": True, "hasSharedParams": True,
                "defaultValue": params, "idType": unit, "rules": rules,
            }  # fmt: skip
            delegate = rule(f"alloc_{name}", [user_bucket(layer_salt, "any", allocated,
                            layer_unit)], value={}, id_type=layer_unit)  # fmt: skip
            delegate["configDelegate"] = name
            layer_rules.append(delegate)
        if draw(st.booleans()):
            pct = draw(st.sampled_from([100, 50]))
            only_pro = [user_field("plan", "any", ["pro"])]
            pro = rule("layer_pro", only_pro, value={"color": "pro"}, pass_percentage=pct,
                       id_type=layer_unit)  # fmt: skip
            layer_rules.append(pro)
        layers[layer] = {
            "type": "dynamic_config", "entity": "layer", "salt": layer_salt, "enabled": True,
            "defaultValue": {"color": f"{layer}_default", "size": 0}, "idType": layer_unit,
            "rules": layer_rules,
        }  # fmt: skip

    for gate_index in range(draw(st.integers(1, 4))):
        name = f"bucket_gate{gate_index}"
        gate_rules = []
        for rule_index in range(draw(st.integers(1, 3))):
            salt = draw(st.sampled_from(["", "shared", f"{name}_{rule_index}"]))
            unit = draw(st.sampled_from(UNITS))
            conds = draw(st.lists(bucket_condition(salt, unit), min_size=1, max_size=2))
            pct = draw(st.sampled_from([100, 100, 30]))
            gate_rules.append(rule(f"{name}_r{rule_index}", conds, pass_percentage=pct,
                                   id_type="userID"))  # fmt: skip
        gates[name] = {"type": "feature_gate", "entity": "feature_gate", "salt": f"{name}_s",
                       "enabled": True, "defaultValue": False, "idType": "userID",
                       "rules": gate_rules}  # fmt: skip

    # Inline conditions go into the condition map, as the console writes them.
    def hoist(section: dict[str, Any]) -> None:
        for spec in section.values():
            for r in spec["rules"]:
                ids = []
                for cond in r["conditions"]:
                    if isinstance(cond, str):
                        ids.append(cond)
                        continue
                    key = f"cond{len(conditions)}"
                    conditions.append(cond)
                    data["condition_map"][key] = cond
                    ids.append(key)
                r["conditions"] = ids

    hoist(gates)
    hoist(experiments)
    hoist(layers)
    data["dynamic_configs"] = experiments
    data["layer_configs"] = layers
    data["experiment_to_layer"] = {e: e.split("_")[0] for e in experiments}
    return data


def people(seed: int) -> list[User]:
    rng = random.Random(seed)
    found = []
    for i in range(USERS_PER_EXAMPLE):
        custom_ids = {}
        roll = rng.random()
        if roll < 0.6:
            custom_ids["companyID"] = f"c{rng.randrange(10**6)}"
        elif roll < 0.8:
            custom_ids["companyid"] = f"c{rng.randrange(10**6)}"
        user_id: str | None = f"u{rng.randrange(10**9)}"
        if i % 40 == 0:
            user_id = rng.choice([None, "", "ünï-😀"])
        found.append(
            User(
                user_id=user_id,
                custom_ids=custom_ids,
                custom={"plan": rng.choice(["pro", "free", "PRO"])},
            )
        )
    return found


def providers(spec: dict[str, Any]) -> tuple[LocalProvider, StatsigProvider]:
    imported = import_statsig(spec)
    assert imported.left_out == []
    local = LocalProvider(LocalProvider.Options(flags=imported.flags, watch=False))
    local.start()
    statsig = StatsigProvider(StatsigProvider.Options(offline=True, bootstrap=spec))
    statsig.start()
    return local, statsig


def mismatches(
    local: Any,
    statsig: Any,
    spec: dict[str, Any],
    users: list[User],
    groups: set[Any] | None = None,
) -> list[Any]:
    """Every (flag, user, statsig's answer, the local answer) that differ."""
    found: list[Any] = []
    groups = set() if groups is None else groups
    gates = sorted(statsig.names().gates)  # holdouts are not gates of the SDK's list
    for user in users:
        for name in gates:
            theirs = statsig.evaluate_gate(user, name, expose=False).value
            ours = local.evaluate_gate(user, name, expose=False).value
            if theirs != ours:
                found.append((name, user, theirs, ours))
        for name in spec["dynamic_configs"]:
            a = statsig.evaluate_experiment(user, name, expose=False)
            b = local.evaluate_experiment(user, name, expose=False)
            groups.add(a.group)
            theirs = (a.group, a.value or {}, a.in_experiment)
            ours = (b.group, b.value or {}, b.in_experiment)
            if theirs != ours:
                found.append((name, user, theirs, ours))
        for name in spec["layer_configs"]:
            theirs = statsig.evaluate_config(user, name, expose=False).value or {}
            ours = local.evaluate_config(user, name, expose=False).value or {}
            if theirs != ours:
                found.append((name, user, theirs, ours))
    return found


@pytest.mark.timeout(600)  # ~1 s an example alone; a loaded 2-core machine is slower
@settings(
    max_examples=10,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(spec=specs(), seed=st.integers(0, 2**32))
def test_layers_experiments_and_user_buckets_answer_as_statsig_does(
    spec: dict[str, Any], seed: int
) -> None:
    local, statsig = providers(spec)
    try:
        groups: set[Any] = set()
        found = mismatches(local, statsig, spec, people(seed), groups)
        assert not found, "\n".join(map(repr, found[:5]))
        event(f"experiment groups seen: {len(groups)}")
    finally:
        statsig.shutdown(5)
        local.shutdown(5)


def test_a_layer_is_served_as_a_config_by_the_statsig_provider() -> None:
    """The Statsig provider answers ``get_config`` on a layer with its parameters, so an
    imported layer can be compared; before, a layer name was an unknown flag."""
    spec = _one_layer()
    local, statsig = providers(spec)
    try:
        assert "layer" in statsig.names().configs
        values = {
            str(statsig.evaluate_config(u, "layer", expose=False).value["color"]) for u in people(1)
        }
        assert values == {"exp_a", "exp_b", "layer_default"}
        assert not mismatches(local, statsig, spec, people(2))
    finally:
        statsig.shutdown(5)
        local.shutdown(5)


def _one_layer() -> dict[str, Any]:
    data = SpecsBuilder().build()
    cmap = data["condition_map"]
    cmap["a"] = user_bucket("layer_salt", "lt", 300)
    cmap["b"] = user_bucket("layer_salt", "gte", 700)
    cmap["in"] = user_bucket("exp_salt", "lt", 1000)
    experiments = {}
    rules = []
    for name, cond in (("exp_a", "a"), ("exp_b", "b")):
        group = rule(f"{name}.g", value={"color": name})
        group.update(conditions=["in"], groupName="g", isExperimentGroup=True)
        experiments[name] = {
            "type": "dynamic_config", "entity": "experiment", "salt": "exp_salt",
            "enabled": True, "defaultValue": {"color": "none"}, "idType": "userID",
            "rules": [group],
        }  # fmt: skip
        delegate = rule(f"alloc_{name}", value={})
        delegate.update(conditions=[cond], configDelegate=name)
        rules.append(delegate)
    data["dynamic_configs"] = experiments
    data["layer_configs"] = {
        "layer": {"type": "dynamic_config", "entity": "layer", "salt": "layer_salt",
                  "enabled": True, "defaultValue": {"color": "layer_default"},
                  "idType": "userID", "rules": rules},
    }  # fmt: skip
    return data


def test_a_partial_pass_percentage_serves_each_unit_its_own_value() -> None:
    """A config rule at 50 %: the units outside get the default under the same rule id.
    The Statsig provider cached results by rule id and served whichever came first."""
    spec = (
        SpecsBuilder()
        .config("c", {"a": 0}, [rule("half", pass_percentage=50, value={"a": 1})])
        .build()
    )
    local, statsig = providers(spec)
    try:
        users = people(3)
        theirs = [statsig.evaluate_config(u, "c", expose=False).value for u in users]
        ours = [local.evaluate_config(u, "c", expose=False).value for u in users]
        assert {v["a"] for v in theirs} == {0, 1}
        assert theirs == ours
    finally:
        statsig.shutdown(5)
        local.shutdown(5)
