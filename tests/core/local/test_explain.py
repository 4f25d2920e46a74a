"""``explain``: the story of an evaluation, always ending in the evaluator's answer."""

from __future__ import annotations

from pathlib import Path

import pytest

from flagport import FlagNotFoundError, Reason, User
from flagport.providers.local.explain import explain
from flagport.providers.local.loader import load_file, load_mapping

EXAMPLE = Path(__file__).parents[3] / "examples" / "flags.yaml"


def texts(kind: str, name: str, user: User, flags: dict[str, object] | None = None) -> list[str]:
    snapshot = load_mapping(flags) if flags is not None else load_file(EXAMPLE)
    return [line.text for line in explain(snapshot, kind, name, user).lines]


def test_every_flag_and_user_ends_in_the_evaluators_result() -> None:
    snapshot = load_file(EXAMPLE)
    users = [
        User(user_id=str(i), country=c, app_version=v, custom={"plan": p})
        for i, (c, v, p) in enumerate(
            [("US", "3.1.0", "pro"), ("DE", "1.0.0", "free"), ("CA", "2.0.0", "team")] * 10
        )
    ]
    for kind, section in (("gate", "gates"), ("experiment", "experiments"), ("config", "configs")):
        for name, compiled in getattr(snapshot, section).items():
            for user in users:
                story = explain(snapshot, kind, name, user)
                assert story.result is compiled.evaluate(user)
                assert story.lines
                assert name in story.summary


def test_failing_percentage_shows_bucket_at_or_above_threshold() -> None:
    flags = {"gates": {"g": {"rules": [{"id": "none", "pass_percentage": 0.01}]}}}
    lines = texts("gate", "g", User(user_id="u-1"), flags)
    assert any(">= 0.0001 fails" in line for line in lines)


def test_disabled_gate_and_overrides_are_explained() -> None:
    assert texts("gate", "holiday_banner", User(user_id="1")) == [
        "enabled: false - the gate is off for everyone"
    ]
    forced = texts("gate", "new_checkout", User(user_id="7", country="US"))
    assert forced == ["overrides: user_id '7' is forced to False"]


def test_experiment_states() -> None:
    assert texts("experiment", "trial_length", User(user_id="1"))[0].startswith("status: stopped")
    assert "winner 'short'" in texts("experiment", "onboarding_steps", User(user_id="1"))[0]
    missing = texts("experiment", "seat_pricing", User(user_id="1"))
    assert missing == ["unit company_id: missing - the user cannot be bucketed"]


def test_allocation_and_groups_are_listed() -> None:
    flags = {
        "experiments": {
            "e": {
                "allocation": 0.5,
                "groups": [{"name": "a", "weight": 50}, {"name": "b", "weight": 50}],
            }
        }
    }
    snapshot = load_mapping(flags)
    story = explain(snapshot, "experiment", "e", User(user_id="u-3"))
    assert story.result is not None
    assert story.result.reason is Reason.DEFAULT
    text = [line.text for line in story.lines]
    assert "group 'a' weight 50: [0.0000, 0.0025)" in text
    assert text[-1] == "outside the allocation: not in the experiment"


def test_unknown_flag_of_that_kind() -> None:
    with pytest.raises(FlagNotFoundError, match="no gate named 'pricing'"):
        explain(load_file(EXAMPLE), "gate", "pricing", User(user_id="1"))


def test_to_dict_is_json_ready() -> None:
    import json

    story = explain(load_file(EXAMPLE), "config", "pricing", User(user_id="1", country="DE"))
    data = json.loads(json.dumps(story.to_dict()))
    assert data["result"]["value"] == {"discount": 0, "currency": "EUR"}
    assert data["steps"][0] == {"depth": 0, "text": "rules[0] id='pro'", "ok": None}


@pytest.mark.parametrize(
    ("unit", "user"),
    [
        ("$statsig.companyID", User(user_id="u", custom_ids={"companyid": "7"})),
        ("$growthbook.id", User(user_id="u-9")),
        ("$featbit.plan", User(user_id="u", custom={"plan": "pro"})),
    ],
)
def test_a_percentage_explains_the_unit_the_evaluator_hashes(unit: str, user: User) -> None:
    # The explanation reads the unit as the evaluation does: vendor units and custom ids
    # under another case included, not only the user id or a custom id as written.
    flags = {"gates": {"g": {"rules": [{"id": "half", "pass_percentage": 50, "unit": unit}]}}}
    lines = texts("gate", "g", user, flags)
    passed = load_mapping(flags).gates["g"].evaluate(user).value
    percentage = next(line for line in lines if line.startswith("pass_percentage"))
    assert percentage.endswith("passes" if passed else "fails")
    assert f"no {unit}" not in percentage
