"""Rules v2: each construct of the rule model, evaluated and validated."""

from __future__ import annotations

from typing import Any

import pytest

from flagport import ConfigurationError, Reason, User
from flagport.providers.local import LocalProvider
from flagport.providers.local.bucketing import featbit_percentage, growthbook_hash
from flagport.providers.local.loader import load_mapping

USERS = [User(user_id=f"u{i}", custom={"plan": "pro" if i % 2 else "free"}) for i in range(400)]


def provider(flags: dict[str, Any]) -> LocalProvider:
    local = LocalProvider(LocalProvider.Options(flags=flags, watch=False))
    local.start()
    return local


def problems(flags: dict[str, Any]) -> dict[str, str]:
    with pytest.raises(ConfigurationError) as exc:
        load_mapping(flags)
    return {loc.path: text for loc, text in exc.value.problems}


def test_a_version_1_miss_still_stops_evaluation() -> None:
    gate = {"rules": [{"id": "half", "pass_percentage": 50}, {"id": "all"}]}
    local = provider({"gates": {"g": gate}})
    results = [local.evaluate_gate(user, "g") for user in USERS]
    assert {r.rule_id for r in results} == {"half"}
    assert 150 < sum(r.value for r in results) < 250


def test_outside_next_falls_through_to_the_next_rule() -> None:
    gate = {"rules": [{"id": "half", "pass_percentage": 50, "outside": "next"}, {"id": "all"}]}
    local = provider({"gates": {"g": gate}})
    results = [local.evaluate_gate(user, "g") for user in USERS]
    assert all(r.value for r in results)
    assert {r.rule_id for r in results} == {"half", "all"}


def test_outside_value_and_outside_rule() -> None:
    config = {
        "default": "dflt",
        "rules": [
            {"id": "a", "pass_percentage": 30, "value": "A", "outside": {"value": "miss"}},
        ],
    }
    jump = {
        "default": "dflt",
        "rules": [
            {"id": "a", "pass_percentage": 30, "value": "A", "outside": {"rule": "c"}},
            {"id": "b", "value": "B"},
            {"id": "c", "value": "C"},
        ],
    }
    local = provider({"configs": {"v": config, "j": jump}})
    assert {local.evaluate_config(u, "v").value for u in USERS} == {"A", "miss"}
    assert {local.evaluate_config(u, "j").value for u in USERS} == {"A", "C"}


def test_scalar_values_are_served_as_they_are() -> None:
    flags = {
        "configs": {"limit": {"default": 5, "rules": [{"when": {"plan": "pro"}, "value": 50}]}},
        "experiments": {
            "color": {
                "groups": [
                    {"name": "a", "weight": 50, "value": "red"},
                    {"name": "b", "weight": 50, "value": "blue"},
                ]
            }
        },
    }
    local = provider(flags)
    assert local.evaluate_config(USERS[1], "limit").value == 50
    assert local.evaluate_config(USERS[0], "limit").value == 5
    assert {local.evaluate_experiment(u, "color").value for u in USERS} == {"red", "blue"}


def test_prerequisites_read_another_flags_value() -> None:
    flags = {
        "gates": {
            "pro": {"rules": [{"when": {"plan": "pro"}}]},
            "child": {"rules": [{"prerequisites": [{"flag": "pro"}]}]},
            "gated": {
                "rules": [
                    {
                        "id": "r",
                        "prerequisites": [
                            {"flag": "tier", "when": {"value": "gold"}, "gate": True}
                        ],
                    },
                    {"id": "rest"},
                ]
            },
        },
        "configs": {
            "tier": {"default": "gold", "rules": [{"when": {"plan": "free"}, "value": "tin"}]}
        },
    }
    local = provider(flags)
    for user in USERS[:20]:
        pro = user.custom["plan"] == "pro"
        assert local.evaluate_gate(user, "child").value is pro
        gated = local.evaluate_gate(user, "gated")
        # A failing gating prerequisite ends with the default, not the next rule.
        assert (gated.value, gated.rule_id) == ((True, "r") if pro else (False, None))


def test_prerequisite_cycles_and_unknown_flags_are_located() -> None:
    flags = {
        "gates": {
            "a": {"rules": [{"prerequisites": [{"flag": "b"}]}]},
            "b": {"rules": [{"prerequisites": [{"flag": "c"}]}]},
            "c": {"rules": [{"prerequisites": [{"flag": "a"}, {"flag": "nope"}]}]},
        }
    }
    found = problems(flags)
    assert (
        "prerequisites form a cycle: a -> b -> c -> a"
        in found["gates.a.rules[0].prerequisites[0].flag"]
    )
    assert "no flag named 'nope'" in found["gates.c.rules[0].prerequisites[1].flag"]


def test_split_by_weights_and_by_ranges() -> None:
    variants = [{"value": "x", "weight": 25}, {"value": "y", "weight": 75}]
    ranged = [{"value": "x", "range": [0.2, 0.4]}, {"value": "y", "ranges": [[0.6, 0.7], [0.9, 1]]}]
    flags = {
        "hash": "growthbook",
        "configs": {
            "w": {"default": "d", "rules": [{"split": {"variants": variants}}]},
            "r": {"default": "d", "rules": [{"split": {"variants": ranged}, "outside": "next"}]},
        },
    }
    local = provider(flags)
    for user in USERS:
        position = growthbook_hash("r", user.user_id or "", 2)
        expected = (
            "x"
            if 0.2 <= position < 0.4
            else "y"
            if 0.6 <= position < 0.7 or position >= 0.9
            else "d"
        )
        assert local.evaluate_config(user, "r").value == expected
    weighted = [local.evaluate_config(u, "w").value for u in USERS]
    assert 60 < weighted.count("x") < 140


def test_featbit_range_not_starting_at_zero_and_a_missing_dispatch_key() -> None:
    gate = {
        "hash": "featbit",
        "salt": "flag-key",
        "unit": "device",
        "rules": [{"range": [0.3, 0.8], "missing_unit": "empty", "outside": "next"}],
    }
    local = provider({"gates": {"g": gate}})
    for i in range(200):
        user = User(user_id="u", custom={"device": i} if i % 3 else {})
        text = str(i) if i % 3 else ""  # FeatBit hashes the number's text; missing is ""
        expected = 0.3 <= featbit_percentage("flag-key" + text) < 0.8
        assert local.evaluate_gate(user, "g").value is expected


def test_a_unit_from_a_nested_attribute_with_numbers_written_as_javascript_does() -> None:
    gate = {"hash": "growthbook", "unit": "org.id", "rules": [{"range": [0, 0.5], "seed": "s"}]}
    local = provider({"gates": {"g": gate}})
    for number in (1, 2.0, 3.5, 10**21):
        user = User(user_id="u", custom={"org": {"id": number}})
        text = {1: "1", 2.0: "2", 3.5: "3.5", 10**21: "1e+21"}[number]
        assert local.evaluate_gate(user, "g").value is (growthbook_hash("s", text, 2) < 0.5)
    assert local.evaluate_gate(User(user_id="u", custom={"org": {"id": True}}), "g").value is False


def test_filters_are_bucket_sets_the_unit_must_be_in() -> None:
    rule = {"filters": [{"seed": "layer", "ranges": [[0, 0.25]]}], "outside": "next"}
    local = provider({"hash": "growthbook", "gates": {"g": {"rules": [rule]}}})
    for user in USERS:
        inside = growthbook_hash("layer", user.user_id or "", 2) < 0.25
        assert local.evaluate_gate(user, "g").value is inside


def test_passthrough_and_forced_variants() -> None:
    variants = [
        {"group": "a", "value": 1, "weight": 50},
        {"group": "b", "value": 2, "weight": 50, "passthrough": True},
    ]
    flags = {
        "experiments": {
            "e": {"rules": [{"split": {"variants": variants}}, {"id": "after", "value": 3}]},
            "f": {
                "rules": [
                    {
                        "split": {
                            "coverage": 50,
                            "force": 1,
                            "variants": [*variants[:1], {"group": "b", "value": 2, "weight": 50}],
                        }
                    }
                ]
            },
        }
    }
    local = provider(flags)
    values = {local.evaluate_experiment(u, "e").value for u in USERS}
    assert values == {1, 3}
    forced = [local.evaluate_experiment(u, "f") for u in USERS]
    assert {r.group for r in forced} == {"b", None}
    assert 120 < sum(r.group == "b" for r in forced) < 280


def test_off_values_of_disabled_gates_and_configs() -> None:
    flags = {
        "gates": {"g": {"enabled": False, "off": True}},
        "configs": {"c": {"enabled": False, "off": "off", "default": "on"}},
    }
    local = provider(flags)
    gate, config = local.evaluate_gate(USERS[0], "g"), local.evaluate_config(USERS[0], "c")
    assert (gate.value, gate.reason) == (True, Reason.DISABLED)
    assert (config.value, config.reason) == ("off", Reason.DISABLED)


def test_rule_mistakes_are_located() -> None:
    flags = {
        "gates": {
            "g": {
                "rules": [
                    {"id": "a", "outside": {"rule": "a"}},
                    {"id": "b", "range": [0.7, 0.2]},
                    {"id": "c", "split": {"variants": [{"weight": 50}, {"range": [0, 1]}]}},
                    {"id": "d", "split": {"force": 3, "variants": [{"weight": 100}]}},
                    {"id": "e", "split": {"variants": [{"value": "yes", "weight": 100}]}},
                ]
            }
        }
    }
    found = problems(flags)
    assert "not a later rule" in found["gates.g.rules[0].outside.rule"]
    assert "ends before it starts" in found["gates.g.rules[1].range"]
    assert "not a mix" in found["gates.g.rules[2].split.variants"]
    assert "not a variant index" in found["gates.g.rules[3].split.force"]
    assert "true or false" in found["gates.g.rules[4].split.variants[0].value"]
    two = problems({"gates": {"g": {"rules": [{"pass_percentage": 5, "range": [0, 1]}]}}})
    assert "at most one of pass_percentage, range" in next(iter(two.values()))
