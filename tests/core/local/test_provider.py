"""Evaluation semantics of the local provider: gates, experiments, configs."""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from flagport import (
    ConfigurationError,
    FlagNotFoundError,
    Flagport,
    ProviderNotReadyError,
    ProviderStatus,
    Reason,
    User,
)
from flagport.plugins import get_provider_class
from flagport.providers.local import LocalProvider


def started(flags: dict[str, Any], **options: Any) -> LocalProvider:
    provider = LocalProvider(LocalProvider.Options(flags=flags, watch=False, **options))
    provider.start()
    return provider


def users(n: int, **attrs: Any) -> list[User]:
    return [User(user_id=f"user-{i}", **attrs) for i in range(n)]


GATE = {
    "gates": {
        "new_checkout": {
            "overrides": {"7": False, "8": True},
            "rules": [
                {"id": "us", "when": {"country": "US"}},
                {"id": "rollout", "pass_percentage": 50},
            ],
        }
    }
}


# -- registration and options --------------------------------------------------------------
def test_registered_as_local_builtin() -> None:
    assert get_provider_class("local") is LocalProvider


def test_options_need_a_path_or_flags() -> None:
    with pytest.raises(ValueError, match="needs definitions"):
        LocalProvider.Options()
    with pytest.raises(ValueError, match=r"\.yaml, \.yml, \.json or \.toml"):
        LocalProvider.Options(path="flags.ini")


def test_construction_loads_nothing() -> None:
    provider = LocalProvider(LocalProvider.Options(path="/nonexistent/flags.yaml"))
    assert provider.status is ProviderStatus.NOT_READY
    with pytest.raises(ProviderNotReadyError):
        provider.check_gate(User(user_id="1"), "new_checkout")


def test_start_with_missing_file_raises_configuration_error(tmp_path: Path) -> None:
    provider = LocalProvider(LocalProvider.Options(path=str(tmp_path / "f.yaml"), watch=False))
    with pytest.raises(ConfigurationError, match="cannot read"):
        provider.start()
    with pytest.raises(ProviderNotReadyError, match="cannot read"):
        provider.evaluate_gate(User(user_id="1"), "x")


# -- gates ------------------------------------------------------------------------------------
def test_first_matching_rule_decides() -> None:
    provider = started(GATE)
    result = provider.evaluate_gate(User(user_id="u1", country="US"), "new_checkout")
    assert (result.value, result.reason, result.rule_id) == (True, Reason.TARGETING_MATCH, "us")
    assert result.provider == "local"


def test_percentage_rule_passes_about_half_with_split_reason() -> None:
    provider = started(GATE)
    results = [provider.evaluate_gate(u, "new_checkout") for u in users(2000, country="DE")]
    passed = sum(r.value for r in results)
    assert 900 < passed < 1100
    assert {r.reason for r in results} == {Reason.SPLIT}
    assert {r.rule_id for r in results} == {"rollout"}


def test_percentage_is_deterministic_and_depends_on_salt() -> None:
    salted = {"gates": {"g": {"salt": "other", "rules": [{"id": "r", "pass_percentage": 50}]}}}
    plain = {"gates": {"g": {"rules": [{"id": "r", "pass_percentage": 50}]}}}
    a, b, c = started(plain), started(plain), started(salted)
    people = users(300)
    first = [a.check_gate(u, "g") for u in people]
    assert first == [b.check_gate(u, "g") for u in people]
    assert first != [c.check_gate(u, "g") for u in people]


def test_failing_percentage_does_not_fall_through_to_later_rules() -> None:
    flags = {
        "gates": {
            "g": {
                "rules": [
                    {"id": "zero", "pass_percentage": 0},
                    {"id": "everyone"},
                ]
            }
        }
    }
    result = started(flags).evaluate_gate(User(user_id="1"), "g")
    assert (result.value, result.reason, result.rule_id) == (False, Reason.SPLIT, "zero")


def test_no_rule_matches_gives_default_false() -> None:
    flags = {"gates": {"g": {"rules": [{"id": "us", "when": {"country": "US"}}]}}}
    result = started(flags).evaluate_gate(User(user_id="1", country="FR"), "g")
    assert (result.value, result.reason, result.rule_id) == (False, Reason.DEFAULT, None)


def test_disabled_gate_is_false_for_everyone() -> None:
    flags = {"gates": {"g": {"enabled": False, "overrides": {"1": True}, "rules": [{"id": "a"}]}}}
    result = started(flags).evaluate_gate(User(user_id="1"), "g")
    assert (result.value, result.reason) == (False, Reason.DISABLED)


def test_user_id_overrides_come_before_rules() -> None:
    provider = started(GATE)
    forced_off = provider.evaluate_gate(User(user_id="7", country="US"), "new_checkout")
    forced_on = provider.evaluate_gate(User(user_id="8", country="FR"), "new_checkout")
    assert (forced_off.value, forced_off.reason, forced_off.rule_id) == (
        False,
        Reason.TARGETING_MATCH,
        "override",
    )
    assert forced_on.value is True


def test_percentage_without_unit_fails() -> None:
    result = started(GATE).evaluate_gate(User(country="DE"), "new_checkout")
    assert (result.value, result.reason, result.rule_id) == (False, Reason.SPLIT, "rollout")


def test_rule_ids_default_to_their_index() -> None:
    flags = {"gates": {"g": {"rules": [{"when": {"country": "US"}}, {}]}}}
    result = started(flags).evaluate_gate(User(user_id="1"), "g")
    assert result.rule_id == "rule_1"


def test_custom_id_unit_buckets_companies_together() -> None:
    flags = {"gates": {"g": {"unit": "company_id", "rules": [{"id": "r", "pass_percentage": 50}]}}}
    provider = started(flags)
    for company in range(40):
        members = [
            User(user_id=f"{company}-{m}", custom_ids={"company_id": str(company)})
            for m in range(5)
        ]
        assert len({provider.check_gate(u, "g") for u in members}) == 1


def test_results_are_prebuilt_and_shared() -> None:
    provider = started(GATE)
    us = User(user_id="u1", country="US")
    assert provider.evaluate_gate(us, "new_checkout") is provider.evaluate_gate(
        User(user_id="u2", country="US"), "new_checkout"
    )


def test_unknown_names_raise_flag_not_found_naming_the_kind() -> None:
    provider = started({**GATE, "configs": {"pricing": {"default": {"d": 1}}}})
    with pytest.raises(FlagNotFoundError, match="no gate named 'nope'"):
        provider.check_gate(User(user_id="1"), "nope")
    with pytest.raises(FlagNotFoundError, match="is a config"):
        provider.evaluate_gate(User(user_id="1"), "pricing")


def test_a_flag_of_another_kind_is_named_with_the_right_article() -> None:
    provider = started(
        {**GATE, "experiments": {"copy": {"groups": [{"name": "a", "weight": 100}]}}}
    )
    with pytest.raises(FlagNotFoundError, match=r"'copy' is an experiment in .*, not a gate$"):
        provider.evaluate_gate(User(user_id="1"), "copy")
    with pytest.raises(
        FlagNotFoundError, match=r"'new_checkout' is a gate in .*, not an experiment$"
    ):
        provider.evaluate_experiment(User(user_id="1"), "new_checkout")


# -- experiments ------------------------------------------------------------------------------
EXPERIMENT = {
    "experiments": {
        "button_color": {
            "when": {"app_version": {"$vgte": "2.0.0"}},
            "overrides": {"12": "blue"},
            "default": {"color": "none"},
            "groups": [
                {"name": "control", "weight": 34, "value": {"color": "gray"}},
                {"name": "blue", "weight": 33, "value": {"color": "blue"}},
                {"name": "green", "weight": 33, "value": {"color": "green"}},
            ],
        }
    }
}


def test_groups_follow_weights() -> None:
    provider = started(EXPERIMENT)
    results = [
        provider.evaluate_experiment(u, "button_color") for u in users(3000, app_version="2.1.0")
    ]
    counts = Counter(r.group for r in results)
    assert set(counts) == {"control", "blue", "green"}
    assert all(850 < n < 1150 for n in counts.values())
    assert all(r.in_experiment and r.reason is Reason.SPLIT for r in results)
    assert {r.get("color") for r in results} == {"gray", "blue", "green"}


def test_not_targeted_or_no_unit_is_not_in_experiment() -> None:
    provider = started(EXPERIMENT)
    old = provider.evaluate_experiment(User(user_id="1", app_version="1.9.0"), "button_color")
    anonymous = provider.evaluate_experiment(User(app_version="3.0.0"), "button_color")
    for result in (old, anonymous):
        assert (result.group, result.in_experiment, result.reason) == (None, False, Reason.DEFAULT)
        assert result.value == {"color": "none"}


def test_experiment_without_default_leaves_the_value_to_the_caller() -> None:
    flags = {
        "experiments": {"e": {"when": {"country": "US"}, "groups": [{"name": "a", "weight": 100}]}}
    }
    with Flagport(started(flags)) as fp:
        result = fp.get_experiment(User(user_id="1"), "e", default={"k": "v"})
    assert (result.group, result.value) == (None, {"k": "v"})


def test_experiment_override_is_targeting_match_not_in_experiment() -> None:
    result = started(EXPERIMENT).evaluate_experiment(User(user_id="12"), "button_color")
    assert (result.group, result.reason, result.in_experiment, result.rule_id) == (
        "blue",
        Reason.TARGETING_MATCH,
        False,
        "override",
    )
    assert result.value == {"color": "blue"}


def test_allocation_limits_who_is_in() -> None:
    flags = {
        "experiments": {
            "e": {
                "allocation": 20,
                "groups": [{"name": "a", "weight": 50}, {"name": "b", "weight": 50}],
            }
        }
    }
    provider = started(flags)
    results = [provider.evaluate_experiment(u, "e") for u in users(2000)]
    inside = [r for r in results if r.in_experiment]
    assert 300 < len(inside) < 500
    assert {r.group for r in inside} == {"a", "b"}
    assert all(r.reason is Reason.DEFAULT for r in results if not r.in_experiment)


def test_raising_allocation_keeps_assigned_units_in_their_group() -> None:
    def exp(allocation: int) -> dict[str, Any]:
        groups = [{"name": "a", "weight": 50}, {"name": "b", "weight": 50}]
        return {"experiments": {"e": {"allocation": allocation, "groups": groups}}}

    small, large = started(exp(20)), started(exp(60))
    for user in users(500):
        before = small.evaluate_experiment(user, "e")
        if before.in_experiment:
            assert large.evaluate_experiment(user, "e").group == before.group


def test_namespaces_make_experiments_mutually_exclusive() -> None:
    groups = [{"name": "a", "weight": 50}, {"name": "b", "weight": 50}]
    flags = {
        "experiments": {
            "left": {"namespace": {"name": "ns", "range": [0, 0.5]}, "groups": groups},
            "right": {"namespace": {"name": "ns", "range": [0.5, 1]}, "groups": groups},
        }
    }
    provider = started(flags)
    in_left = in_right = 0
    for user in users(1000):
        left = provider.evaluate_experiment(user, "left").in_experiment
        right = provider.evaluate_experiment(user, "right").in_experiment
        assert not (left and right)
        assert left or right
        in_left += left
        in_right += right
    assert 400 < in_left < 600


def test_stopped_experiment_is_disabled_for_everyone() -> None:
    flags = {
        "experiments": {
            "e": {
                "status": "stopped",
                "overrides": {"1": "a"},
                "groups": [{"name": "a", "weight": 100}],
            }
        }
    }
    result = started(flags).evaluate_experiment(User(user_id="1"), "e")
    assert (result.group, result.reason, result.in_experiment) == (None, Reason.DISABLED, False)


def test_launched_experiment_serves_the_winner_statically() -> None:
    flags = {
        "experiments": {
            "e": {
                "status": "launched",
                "winner": "b",
                "groups": [
                    {"name": "a", "weight": 50, "value": {"v": 1}},
                    {"name": "b", "weight": 50, "value": {"v": 2}},
                ],
            }
        }
    }
    provider = started(flags)
    for user in [*users(20), User()]:
        result = provider.evaluate_experiment(user, "e")
        assert (result.group, result.get("v"), result.reason, result.in_experiment) == (
            "b",
            2,
            Reason.STATIC,
            False,
        )


def test_experiment_on_custom_unit() -> None:
    flags = {
        "experiments": {
            "e": {
                "unit": "company_id",
                "groups": [{"name": "a", "weight": 50}, {"name": "b", "weight": 50}],
            }
        }
    }
    provider = started(flags)
    without = provider.evaluate_experiment(User(user_id="1"), "e")
    assert without.group is None
    groups = {
        provider.evaluate_experiment(
            User(user_id=str(i), custom_ids={"company_id": "c1"}), "e"
        ).group
        for i in range(20)
    }
    assert len(groups) == 1


def test_exposure_is_logged_once_through_the_client() -> None:
    from flagport import Event

    seen: list[Event] = []
    provider = started(EXPERIMENT)
    provider.log_event = seen.append  # type: ignore[method-assign]
    with Flagport(provider) as fp:
        user = User(user_id="u-1", app_version="2.0.0")
        for _ in range(3):
            fp.get_experiment(user, "button_color")
        fp.flush()
    exposures = [e for e in seen if e.kind.value == "exposure"]
    assert len(exposures) == 1
    assert exposures[0].name == "button_color"


# -- configs ------------------------------------------------------------------------------------
CONFIG = {
    "configs": {
        "pricing": {
            "default": {"discount": 0},
            "rules": [
                {"id": "pro", "when": {"plan": "pro"}, "value": {"discount": 0.1}},
                {"id": "half", "pass_percentage": 50, "value": {"discount": 0.05}},
            ],
        }
    }
}


def test_config_first_matching_rule_value() -> None:
    result = started(CONFIG).evaluate_config(User(user_id="1", custom={"plan": "pro"}), "pricing")
    assert (result.value, result.reason, result.rule_id) == (
        {"discount": 0.1},
        Reason.TARGETING_MATCH,
        "pro",
    )


def test_config_percentage_rule_splits_between_value_and_default() -> None:
    provider = started(CONFIG)
    values = Counter(
        provider.evaluate_config(u, "pricing").get("discount", -1.0) for u in users(1000)
    )
    assert set(values) == {0.05, 0}
    assert 400 < values[0.05] < 600


def test_config_default_when_nothing_matches() -> None:
    flags = {
        "configs": {
            "c": {
                "default": {"a": [1, {"b": 2}]},
                "rules": [{"id": "x", "when": {"plan": "pro"}, "value": {}}],
            }
        }
    }
    result = started(flags).evaluate_config(User(user_id="1"), "c")
    assert (result.reason, result.rule_id) == (Reason.DEFAULT, None)
    assert result.value == {"a": (1, {"b": 2})}
    with pytest.raises(TypeError):
        result.value["a"][1]["b"] = 3


# -- file + inline, names, stats -------------------------------------------------------------------
def test_inline_flags_replace_file_entries(tmp_path: Path) -> None:
    path = tmp_path / "flags.yaml"
    path.write_text("gates:\n  a: {rules: [{id: all}]}\n  b: {rules: [{id: all}]}\n")
    provider = LocalProvider(
        LocalProvider.Options(
            path=str(path), flags={"gates": {"b": {"enabled": False}}}, watch=False
        )
    )
    provider.start()
    assert provider.check_gate(User(user_id="1"), "a") is True
    assert provider.check_gate(User(user_id="1"), "b") is False


def test_names_and_stats() -> None:
    provider = started({**GATE, **EXPERIMENT, **CONFIG})
    names = provider.names()
    assert (names.gates, names.experiments, names.configs) == (
        {"new_checkout"},
        {"button_color"},
        {"pricing"},
    )
    stats = provider.stats()
    assert (stats["gates"], stats["experiments"], stats["configs"]) == (1, 1, 1)
    assert stats["source"] == "inline flags"


def test_facade_by_name_with_path(tmp_path: Path) -> None:
    path = tmp_path / "flags.json"
    path.write_text('{"gates": {"g": {"rules": [{"id": "all"}]}}}')
    with Flagport(provider="local", path=str(path), watch=False) as fp:
        assert fp.check_gate({"user_id": "1"}, "g") is True
        assert fp.get_gate({"user_id": "1"}, "missing").error_code is not None


def test_hash_memo_is_bounded_and_never_changes_answers(monkeypatch: pytest.MonkeyPatch) -> None:
    from flagport.providers.local import compiled

    monkeypatch.setattr(compiled.MEMOS, "max_entries", 25)
    provider = started({**GATE, **EXPERIMENT})
    people = users(200, country="DE", app_version="2.0.0")
    first = [
        (provider.check_gate(u, "new_checkout"), provider.evaluate_experiment(u, "button_color"))
        for u in people
    ]
    assert sum(len(m) for m in compiled.MEMOS.memos()) <= 25
    compiled.clear_memo()
    again = [
        (provider.check_gate(u, "new_checkout"), provider.evaluate_experiment(u, "button_color"))
        for u in people
    ]
    assert first == again
    assert len({passed for passed, _ in first}) == 2


def test_hash_option_applies_when_the_file_names_none() -> None:
    plain = {"gates": {"g": {"rules": [{"id": "r", "pass_percentage": 50}]}}}
    people = users(300)

    def answers(provider: LocalProvider) -> list[bool]:
        return [provider.check_gate(u, "g") for u in people]

    statsig, growthbook = started(plain), started(plain, hash="growthbook")
    assert answers(statsig) != answers(growthbook)
    named = started({"hash": "growthbook", **plain})
    assert answers(named) == answers(growthbook)
    overridden = started(
        {"gates": {"g": {"hash": "statsig", **plain["gates"]["g"]}}}, hash="featbit"
    )
    assert answers(overridden) == answers(statsig)


def test_stats_report_a_version_that_follows_the_definitions(tmp_path: Path) -> None:
    # feature_flag.version in telemetry: the same file gives the same version, an edit
    # a new one, and a failed reload keeps the version of what is still served.
    path = tmp_path / "flags.yaml"
    path.write_text("gates:\n  g: {}\n")
    provider = LocalProvider(LocalProvider.Options(path=str(path), watch=False))
    provider.start()
    first = provider.stats()["version"]
    assert isinstance(first, str)
    assert first
    assert provider.reload()
    assert provider.stats()["version"] == first
    path.write_text("gates:\n  g: {enabled: false}\n")
    assert provider.reload()
    second = provider.stats()["version"]
    assert second != first
    path.write_text("gates:\n  g: {enabled: maybe}\n")
    assert not provider.reload()
    assert provider.stats()["version"] == second
    provider.shutdown()


def test_inline_flags_containing_themselves_are_a_located_problem_not_an_internal_error() -> None:
    # The inline flags were written out for the version digest before the compiler's
    # checks ran: json.dumps raised ValueError ("Circular reference detected") or, for a
    # tuple key, TypeError, reported as "internal error while loading the flags file".
    definition: dict[str, Any] = {"default": {}}
    definition["default"]["again"] = definition
    provider = LocalProvider(LocalProvider.Options(flags={"configs": {"c": definition}}))
    with pytest.raises(ConfigurationError) as caught:
        provider.start()
    assert "configs.c.default.again" in str(caught.value)
    assert "contains itself" in str(caught.value)
    provider.shutdown()
    flags = {"configs": {"c": {"default": {(1, 2): 1}}}}
    with Flagport(provider="local", flags=flags) as fp:
        assert fp.get_config(User(user_id="1"), "c").value == {"(1, 2)": 1}
