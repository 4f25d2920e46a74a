"""``flagport explain`` on rules v2: prerequisites, bucket against its range, fall-through."""

from __future__ import annotations

from flagport import User
from flagport.providers.local.explain import explain
from flagport.providers.local.loader import load_mapping

FLAGS = {
    "hash": "growthbook",
    "gates": {"pro": {"rules": [{"when": {"plan": "pro"}}]}},
    "configs": {
        "price": {
            "default": 10,
            "rules": [
                {"id": "needs_pro", "prerequisites": [{"flag": "pro"}], "value": 5},
                {"id": "slice", "range": [0, 0.0001], "seed": "s", "value": 7, "outside": "next"},
                {"id": "jump", "range": [0, 0.0001], "value": 8, "outside": {"rule": "last"}},
                {"id": "skipped", "value": 9},
                {"id": "last", "split": {"variants": [{"value": 1, "range": [0, 1]}]}},
            ],
        }
    },
}


def texts(user: User) -> list[str]:
    story = explain(load_mapping(FLAGS), "config", "price", user)
    assert story.result is not None
    return [line.text for line in story.lines]


def test_each_step_of_a_rules_v2_evaluation_is_told() -> None:
    lines = texts(User(user_id="u1", custom={"plan": "free"}))
    assert "prerequisite 'pro': value False fails" in lines
    assert any(
        t.startswith("unit 'u1': bucket ") and "against [0, 0.0001) - outside" in t for t in lines
    )
    assert "outside: falls through to the next rule" in lines
    assert "outside: continues at rules[4]" in lines
    assert "rules[3] id='skipped'" not in lines
    assert any(t.startswith("unit 'u1': bucket ") and t.endswith("- variant 0") for t in lines)


def test_a_passing_prerequisite_lets_the_rule_decide() -> None:
    lines = texts(User(user_id="u1", custom={"plan": "pro"}))
    assert "prerequisite 'pro': value True holds" in lines
    assert "4 later rule(s) not evaluated" in lines
