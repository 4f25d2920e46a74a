"""Conditions on the evaluation context: custom ids, tier, time, other gates, segments.

Also the file-level switches: ``semantics`` and ``strict_conditions``, and the
``$attributes`` spelling of attribute names that start with ``$``.
"""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from flagport import User
from flagport.cli import cli
from flagport.errors import ConfigurationError
from flagport.providers.local import LocalProvider
from flagport.providers.local.conditions import (
    ConditionError,
    ConditionOptions,
    compile_audited,
)
from flagport.providers.local.conditions.explain import explain_condition
from flagport.providers.local.conditions.segments import statsig_id_hash
from flagport.providers.local.conditions.setup import references
from flagport.user import as_user


def provider(flags: dict[str, Any]) -> LocalProvider:
    local = LocalProvider(LocalProvider.Options(flags=flags, watch=False))
    local.start()
    return local


def passes(flags: dict[str, Any], user: User | dict[str, Any], gate: str = "g") -> bool:
    return bool(provider(flags).evaluate_gate(as_user(user), gate).value)


def one_gate(when: dict[str, Any], **file: Any) -> dict[str, Any]:
    return {**file, "gates": {"g": {"rules": [{"when": when}]}}}


def test_custom_ids_are_visible_to_conditions() -> None:
    flags = one_gate({"$customIds": {"company_id": {"$in": ["c1"]}}})
    assert passes(flags, User(user_id="u", custom_ids={"company_id": "c1"}))
    assert not passes(flags, User(user_id="u", custom_ids={"company_id": "c2"}))
    assert not passes(flags, User(user_id="u"))


def test_environment_tier_comes_from_the_user() -> None:
    flags = one_gate({"$environment": {"$in": ["staging"]}})
    assert passes(flags, User(user_id="u", environment_tier="staging"))
    assert not passes(flags, User(user_id="u", environment_tier="production"))
    assert not passes(flags, User(user_id="u"))


def test_the_default_tier_applies_when_the_user_has_none() -> None:
    options = ConditionOptions(environment="staging")
    test = compile_audited({"$environment": "staging"}, options)
    assert test({}, User()) is True
    assert test({}, User(environment_tier="production")) is False


@pytest.mark.parametrize(
    ("op", "target", "expected"),
    [
        ("$after", "2026-01-01T00:00:00Z", True),
        ("$before", "2026-01-01T00:00:00Z", False),
        ("$on", "2026-03-04T23:59:59Z", True),
        ("$on", 1_772_582_400_000 + 86_400_000, False),  # 2026-03-05 in epoch ms
        ("$after", 1_772_582_399, True),  # epoch seconds on the attribute side are scaled
    ],
)
def test_time_conditions_use_the_users_now(op: str, target: Any, expected: bool) -> None:
    moment = datetime(2026, 3, 4, 12, 0, tzinfo=UTC)
    flags = one_gate({"$now": {op: target}})
    assert passes(flags, User(user_id="u", now=moment)) is expected


def test_time_operators_work_on_attributes_too() -> None:
    flags = one_gate({"created": {"$before": "2025-01-01T00:00:00Z"}})
    assert passes(flags, User(user_id="u", custom={"created": "2024-06-01 10:00:00"}))
    assert passes(flags, User(user_id="u", custom={"created": 1_700_000_000}))  # seconds
    assert not passes(flags, User(user_id="u", custom={"created": "2026-06-01T00:00:00Z"}))
    assert not passes(flags, User(user_id="u", custom={"created": "not a time"}))


def test_gate_references_follow_the_other_gate() -> None:
    flags = {
        "gates": {
            "pro": {"rules": [{"when": {"plan": "pro"}}]},
            "needs_pro": {"rules": [{"when": {"$passGate": "pro"}}]},
            "not_pro": {"rules": [{"when": {"$failGate": "pro"}}]},
            "any_of": {"rules": [{"when": {"$passGate": ["pro", "beta"]}}]},
            "beta": {"rules": [{"when": {"beta": True}}]},
        }
    }
    local = provider(flags)
    pro, beta, other = (
        User(user_id="1", custom={"plan": "pro"}),
        User(user_id="2", custom={"beta": True}),
        User(user_id="3"),
    )
    assert [local.evaluate_gate(pro, g).value for g in ("needs_pro", "not_pro", "any_of")] == [
        True,
        False,
        True,
    ]
    assert local.evaluate_gate(beta, "any_of").value is True
    assert local.evaluate_gate(other, "not_pro").value is True


def test_a_gate_reference_cycle_evaluates_to_no_match_rather_than_recursing() -> None:
    flags = {
        "gates": {
            "a": {"rules": [{"when": {"$passGate": "b"}}]},
            "b": {"rules": [{"when": {"$passGate": "a"}}]},
        }
    }
    assert provider(flags).evaluate_gate(User(user_id="1"), "a").value is False
    assert references({"$or": [{"$passGate": "b"}, {"x": {"$inGroup": "s"}}]}) == {
        ("gate", "b"),
        ("segment", "s"),
    }


def test_an_unknown_gate_reference_is_a_located_problem() -> None:
    with pytest.raises(ConfigurationError) as info:
        provider(one_gate({"$passGate": "nope"}))
    assert "gates.g.rules[0].when.$passGate: $passGate names gate 'nope'" in str(info.value)


def test_segments_with_rules_include_and_exclude() -> None:
    flags = {
        "segments": {
            "staff": {
                "when": {"email": {"$regex": "@acme[.]com$"}},
                "included": ["guest"],
                "excluded": ["intern"],
            }
        },
        "gates": {"g": {"rules": [{"when": {"$inSegment": "staff"}}]}},
    }
    assert passes(flags, User(user_id="ann", email="ann@acme.com"))
    assert passes(flags, User(user_id="guest"))
    assert not passes(flags, User(user_id="intern", email="intern@acme.com"))
    assert not passes(flags, User(user_id="bob", email="bob@else.com"))


def test_hashed_id_lists_match_the_ids_they_were_made_from() -> None:
    flags = {
        "segments": {"beta": {"hashed_ids": [statsig_id_hash("u1"), statsig_id_hash("7")]}},
        "gates": {"g": {"rules": [{"when": {"user_id": {"$inGroup": "beta"}}}]}},
    }
    assert passes(flags, User(user_id="u1"))
    assert not passes(flags, User(user_id="u2"))
    assert re.fullmatch(r"[A-Za-z0-9+/]{8}", statsig_id_hash("u1"))


def test_a_segment_with_rules_is_not_an_id_list() -> None:
    flags = {
        "segments": {"staff": {"when": {"plan": "pro"}}},
        "gates": {"g": {"rules": [{"when": {"user_id": {"$inGroup": "staff"}}}]}},
    }
    with pytest.raises(ConfigurationError, match=r"\$inSegment"):
        provider(flags)


def test_dollar_attributes_are_written_under_dollar_attributes() -> None:
    flags = one_gate({"$attributes": {"$groups": {"$in": ["admins"]}}})
    assert passes(flags, {"user_id": "1", "$groups": ["admins", "x"]})
    with pytest.raises(ConfigurationError, match=r"\$attributes"):
        provider(one_gate({"$groups": {"$in": ["admins"]}}))


def test_a_lenient_file_reads_unknown_dollar_keys_and_groups_as_growthbook_does() -> None:
    flags = one_gate(
        {"$groups": {"$in": ["admins"]}, "id": {"$notInGroup": "unknown_group"}},
        strict_conditions=False,
    )
    assert passes(flags, {"user_id": "1", "$groups": ["admins"], "id": "1"})
    with pytest.raises(ConfigurationError, match="unknown_group"):
        provider(one_gate({"id": {"$inGroup": "unknown_group"}}))


def test_statsig_semantics_coerce_and_ignore_field_case() -> None:
    flags = one_gate({"Age": {"$gte": 18}, "appVersion": {"$vgte": "1.2"}}, semantics="statsig")
    assert passes(flags, User(user_id="1", app_version="1.2.0-beta", custom={"age": "18"}))
    assert not passes(flags, User(user_id="1", app_version="1.1.9", custom={"age": 30}))
    # The same file under GrowthBook's rules: "18" is not a number, no field is Age.
    assert not passes(one_gate({"Age": {"$gte": 18}}), User(user_id="1", custom={"age": "18"}))


@pytest.mark.parametrize(
    ("condition", "where"),
    [
        ({"$customIds": ["company_id"]}, "$customIds"),
        ({"$now": {"$after": "tomorrow"}}, "$now.$after"),
        ({"$passGate": []}, "$passGate"),
        ({"$inSegment": "missing"}, "$inSegment"),
        ({"$attributes": 1}, "$attributes"),
        ({"name": {"$startsWith": [1]}}, "name.$startsWith"),
    ],
)
def test_bad_context_conditions_are_refused_with_their_place(
    condition: dict[str, Any], where: str
) -> None:
    options = ConditionOptions(flag_value=lambda kind, name, user: False)
    with pytest.raises(ConditionError) as info:
        compile_audited(condition, options, path="gates.g.rules[0].when")
    assert info.value.path == f"gates.g.rules[0].when.{where}"


def test_explain_shows_context_steps() -> None:
    user = User(user_id="1", custom_ids={"company_id": "c1"}, environment_tier="prod")
    lines = explain_condition(
        {"$customIds": {"company_id": "c1"}, "$environment": "staging"}, user.attributes, user=user
    )
    assert lines == [
        ('$customIds {"company_id": "c1"}', True),
        ('$environment "staging"', False),
    ]


def test_string_operators() -> None:
    test = compile_audited(
        {"email": {"$endsWithi": ["@ACME.com"], "$notContains": "spam"}}, ConditionOptions()
    )
    assert test({"email": "ann@acme.COM"}, User()) is True
    assert test({"email": "spam@acme.com"}, User()) is False
    assert test({}, User()) is False


CONTEXT_FILE = """\
semantics: statsig
segments:
  staff: {when: {email: {$endsWithi: ["@acme.com"]}}, excluded: [u9]}
gates:
  base:
    rules:
      - when: {plan: {$in: [pro]}}
  g:
    rules:
      - when:
          $passGate: bsae
          $now: {$after: someday}
      - when: {$inSegment: staff, $customIds: {company_id: {$in: [c1]}}}
"""


def test_validate_locates_problems_in_context_conditions(tmp_path: Path) -> None:
    path = tmp_path / "flags.yaml"
    path.write_text(CONTEXT_FILE)
    result = CliRunner().invoke(cli, ["validate", str(path)])
    assert result.exit_code == 1
    assert f"{path}:11 gates.g.rules[0].when.$passGate: $passGate names gate 'bsae'" in (
        result.stderr
    )
    assert "did you mean base?" in result.stderr
    path.write_text(CONTEXT_FILE.replace("segments:\n", "segments:\n  broken: {hashed_ids: [1]}\n"))
    result = CliRunner().invoke(cli, ["validate", str(path)])
    assert f"{path}:3 segments.broken" in result.stderr


def test_explain_shows_each_context_step(tmp_path: Path) -> None:
    path = tmp_path / "flags.yaml"
    fixed = CONTEXT_FILE.replace("bsae", "base").replace("someday", '"2020-01-01T00:00:00Z"')
    path.write_text(fixed)
    user = json.dumps({"user_id": "u1", "email": "a@ACME.com", "custom_ids": {"company_id": "c1"}})
    result = CliRunner().invoke(cli, ["explain", str(path), "gate", "g", "--user", user])
    assert result.exit_code == 0, result.output
    assert '$passGate "base"' in result.stdout
    assert '$inSegment "staff"' in result.stdout
    assert '$customIds {"company_id": {"$in": ["c1"]}}' in result.stdout


def test_a_rule_may_name_its_own_semantics() -> None:
    flags = {
        "gates": {
            "g": {
                "rules": [
                    {"id": "gb", "when": {"age": {"$gte": 18}}},
                    {"id": "statsig", "when": {"Age": {"$gte": 18}}, "semantics": "statsig"},
                ]
            }
        }
    }
    local = provider(flags)
    as_number, as_text = (
        User(user_id="1", custom={"age": 20}),
        User(user_id="2", custom={"age": "20"}),
    )
    assert local.evaluate_gate(as_number, "g").rule_id == "gb"
    assert local.evaluate_gate(as_text, "g").rule_id == "statsig"  # coerced, field case ignored
