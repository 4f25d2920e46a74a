"""The statsig provider's cached results: told apart from the specs, not by serialising
each value (``benchmarks/bench_statsig.py`` prints the cost of a large config)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from statsig_python_core import (
    DynamicConfigEvaluationOptions,
    Statsig,
    StatsigOptions,
    StatsigUser,
)

from flagport import User
from flagport.results import thaw
from flagport_statsig import StatsigProvider
from flagport_statsig._convert import _SpecsStore
from flagport_statsig.result_keys import build_value_index
from flagport_statsig.testing import SpecsBuilder, public, rule

QUIET = DynamicConfigEvaluationOptions(disable_exposure_logging=True)
USERS = [f"u{i}" for i in range(60)]


def _specs() -> dict[str, Any]:
    value = {f"p{i}": {"n": i, "on": True} for i in range(50)}
    return (
        SpecsBuilder()
        # 1 and true are equal in Python, not in JSON: each unit keeps its own type.
        .config("typed", {"on": 1, "n": 1.0}, [rule("half", pass_percentage=50,
                                                     value={"on": True, "n": 1})])
        .config("mixed", {"on": 1, "x": "a"}, [rule("half", pass_percentage=50,
                                                    value={"on": True, "x": "b"})])
        .config("large", {}, [rule("all", [public()], value=value)])
        .config("large_half", {"p": 0}, [rule("half", pass_percentage=50, value=value)])
        .experiment("exp", [("a", {"x": 1}), ("b", {"x": 2})])
        .build()
    )  # fmt: skip


@pytest.fixture
def both() -> Iterator[tuple[StatsigProvider, Any]]:
    specs = _specs()
    provider = StatsigProvider(StatsigProvider.Options(offline=True, bootstrap=specs))
    provider.start()
    sdk = Statsig(
        "secret-keys",
        StatsigOptions(
            disable_network=True,
            data_store=_SpecsStore(json.dumps(specs)),
            disable_country_lookup=True,
            output_log_level="none",
        ),
    )
    sdk.initialize().wait(10)
    try:
        yield provider, sdk
    finally:
        provider.shutdown(5)
        sdk.shutdown().wait(5)


def _typed(value: Any) -> str:
    return json.dumps(value, sort_keys=True)  # 1, 1.0 and true are three texts


@pytest.mark.parametrize("name", ["typed", "mixed", "large", "large_half"])
def test_every_unit_gets_the_sdks_value_with_its_json_types(
    both: tuple[StatsigProvider, Any], name: str
) -> None:
    provider, sdk = both
    seen = set()
    for _ in range(2):  # the second round is served from the cache
        for user_id in USERS:
            theirs = sdk.get_dynamic_config(StatsigUser(user_id=user_id), name, QUIET)
            ours = provider.evaluate_config(User(user_id=user_id), name, expose=False)
            assert _typed(ours.value) == _typed(theirs.get_value()), user_id
            assert ours.rule_id == theirs.rule_id
            seen.add(_typed(ours.value))
    assert len(seen) == (1 if name == "large" else 2)


def test_an_experiment_serves_each_group_its_own_value(
    both: tuple[StatsigProvider, Any],
) -> None:
    provider, sdk = both
    for user_id in USERS:
        theirs = sdk.get_experiment(StatsigUser(user_id=user_id), "exp")
        ours = provider.evaluate_experiment(User(user_id=user_id), "exp", expose=False)
        assert (ours.group, thaw(ours.value)) == (theirs.group_name, theirs.get_value())


def test_the_key_tells_known_rules_apart_without_the_values_text(
    both: tuple[StatsigProvider, Any],
) -> None:
    _, sdk = both
    index = build_value_index(_specs())
    told: dict[str, set[Any]] = {}
    for user_id in USERS:
        for name in ("typed", "mixed", "large", "large_half"):
            result = sdk.get_dynamic_config(StatsigUser(user_id=user_id), name, QUIET)
            key = index.tell(name, result.rule_id, result.details, result.get_value())
            told.setdefault(name, set()).add(key)
    # A rule serving one value needs nothing; a partial rollout is told by a parameter
    # whose values differ in Python; when only 1 versus true differ, by the text.
    assert told["large"] == {None}
    assert told["large_half"] == told["mixed"] == {True, False}
    assert all(isinstance(key, str) for key in told["typed"])
    assert len(told["typed"]) == 2


def test_answers_from_other_definitions_fall_back_to_the_values_text(
    both: tuple[StatsigProvider, Any],
) -> None:
    # An index built from older specs (an update not yet seen) is not used.
    _, sdk = both
    stale = build_value_index({**_specs(), "time": 1})
    result = sdk.get_dynamic_config(StatsigUser(user_id="u1"), "large", QUIET)
    key = stale.tell("large", result.rule_id, result.details, result.get_value())
    assert key == repr(result.get_value())
