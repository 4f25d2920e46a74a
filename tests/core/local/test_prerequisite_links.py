"""Prerequisites read the flag they name directly (no result built per link): the value
and the verdict are those of the flag's full evaluation, for every shape of flag."""

from __future__ import annotations

from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from flagport import User
from flagport.providers.local.loader import load_mapping
from flagport.providers.local.rule_compiler import direct_value

USERS = [
    User(user_id=f"u{i}", custom={"plan": "pro" if i % 3 else "free", "n": i}) for i in range(24)
]

conditions = st.sampled_from([None, {"plan": "pro"}, {"plan": "free"}])
base_links = st.lists(
    st.fixed_dictionaries(
        {"flag": st.just("base")},
        optional={"gate": st.booleans(), "when": st.sampled_from([{"value": False}])},
    ),
    max_size=2,
)


def rule(value: Any = None) -> st.SearchStrategy[dict[str, Any]]:
    """A rule of the flag a prerequisite names: any mix of condition, prerequisites on
    the base gate, a rollout and (for a config) a value."""
    fields: dict[str, st.SearchStrategy[Any]] = {
        "when": conditions.filter(lambda c: c is not None),
        "prerequisites": base_links,
        "pass_percentage": st.sampled_from([0, 50, 100]),
    }
    return st.fixed_dictionaries({} if value is None else {"value": value}, optional=fields)


gates = st.fixed_dictionaries(
    {"rules": st.lists(rule(), max_size=2)},
    optional={"enabled": st.booleans(), "overrides": st.just({"u1": False, "u2": True})},
)
config_values = st.sampled_from(["gold", "tin", 3, True])
configs = st.fixed_dictionaries(
    {"default": config_values, "rules": st.lists(rule(config_values), max_size=2)},
    optional={"enabled": st.booleans(), "off": config_values},
)
#: How the child reads the named flag: the default ({value: true}), an exact literal, or
#: a condition that is not one (a number, an operator).
links = st.sampled_from(
    [None, {"value": False}, {"value": "gold"}, {"value": 3}, {"value": {"in": ["gold", "tin"]}}]
)


@settings(max_examples=150, deadline=None)
@given(target=st.one_of(gates, configs), when=links, gate=st.booleans())
def test_a_prerequisite_reads_the_value_the_flag_serves(
    target: dict[str, Any], when: dict[str, Any] | None, gate: bool
) -> None:
    is_config = "default" in target
    link: dict[str, Any] = {"flag": "target", "gate": gate}
    if when is not None:
        link["when"] = when
    flags = {
        "gates": {
            "base": {"rules": [{"when": {"plan": "pro"}, "pass_percentage": 50}]},
            "child": {"rules": [{"prerequisites": [link]}]},
            **({} if is_config else {"target": target}),
        },
        "configs": {"target": target} if is_config else {},
    }
    snapshot = load_mapping(flags)
    flag = (snapshot.configs if is_config else snapshot.gates)["target"]
    prerequisite = snapshot.gates["child"].rules[0].prerequisites[0]  # type: ignore[index]
    read = direct_value(flag)
    for user in USERS:
        served = flag.evaluate(user).value
        assert (read(user), type(read(user))) == (served, type(served))
        assert prerequisite.holds(user) is bool(prerequisite.when({"value": served}, user))
        # The chain's answer as the full evaluation gives it, link by link.
        child = snapshot.gates["child"].evaluate(user)
        assert child.value is prerequisite.holds(user)
