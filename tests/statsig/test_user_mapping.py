"""User fields reach Statsig's conditions: built-ins, custom, private, custom_ids."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from flagport import Flagport, User
from flagport_statsig.testing import SpecsBuilder, rule, unit_id, user_field


@pytest.fixture(scope="module")
def fp() -> Iterator[Flagport]:
    specs = (
        SpecsBuilder()
        .gate("pro_plan", [rule("pro", [user_field("plan", "any", ["pro"])])])
        .gate("vip_private", [rule("vip", [user_field("tier", "any", ["vip"])])])
        .gate(
            "corp_email", [rule("corp", [user_field("email", "str_contains_any", ["@corp.com"])])]
        )
        .gate("new_app", [rule("v2", [user_field("app_version", "version_gte", "2.0.0")])])
        .gate("fr_locale", [rule("fr", [user_field("locale", "any", ["fr_FR"])])])
        .gate(
            "company_7",
            [rule("c7", [unit_id("company_id", "any", ["7"])], id_type="company_id")],
            id_type="company_id",
        )
        .gate(
            "company_half",
            [rule("half", pass_percentage=50, id_type="company_id")],
            id_type="company_id",
        )
        .build()
    )
    client = Flagport(provider="statsig", offline=True, bootstrap=specs, strict=True)
    yield client
    client.shutdown()


def test_custom_attribute(fp: Flagport) -> None:
    assert fp.check_gate(User(user_id="1", custom={"plan": "pro"}), "pro_plan") is True
    assert fp.check_gate(User(user_id="1", custom={"plan": "free"}), "pro_plan") is False


def test_private_attribute_is_seen_by_conditions(fp: Flagport) -> None:
    assert fp.check_gate(User(user_id="1", private={"tier": "vip"}), "vip_private") is True
    assert fp.check_gate(User(user_id="1"), "vip_private") is False


def test_builtin_fields(fp: Flagport) -> None:
    assert fp.check_gate(User(user_id="1", email="a@corp.com"), "corp_email") is True
    assert fp.check_gate(User(user_id="1", email="a@home.org"), "corp_email") is False
    assert fp.check_gate(User(user_id="1", app_version="2.3.1"), "new_app") is True
    assert fp.check_gate(User(user_id="1", app_version="1.9.9"), "new_app") is False
    assert fp.check_gate(User(user_id="1", locale="fr_FR"), "fr_locale") is True


def test_custom_ids_are_units(fp: Flagport) -> None:
    assert fp.check_gate(User(user_id="1", custom_ids={"company_id": "7"}), "company_7") is True
    assert fp.check_gate(User(user_id="1", custom_ids={"company_id": "8"}), "company_7") is False
    assert fp.check_gate(User(user_id="1"), "company_7") is False


def test_bucketing_on_a_custom_id_ignores_the_user_id(fp: Flagport) -> None:
    answers = []
    for company in range(200):
        ids = {"company_id": str(company)}
        a = fp.check_gate(User(user_id="alice", custom_ids=ids), "company_half")
        b = fp.check_gate(User(user_id="bob", custom_ids=ids), "company_half")
        assert a is b
        answers.append(a)
    assert 60 < sum(answers) < 140


def test_dict_users_work(fp: Flagport) -> None:
    assert fp.check_gate({"user_id": "1", "plan": "pro"}, "pro_plan") is True


def test_converted_user_is_cached_on_the_user(fp: Flagport) -> None:
    user = User(user_id="cache-me", custom={"plan": "pro"})
    fp.check_gate(user, "pro_plan")
    cached = dict(user.provider_cache)
    assert len(cached) == 1
    fp.check_gate(user, "pro_plan")
    ((key, converted),) = cached.items()
    assert user.provider_cache[key] is converted


@pytest.mark.parametrize(("environment", "expected"), [("staging", True), ("production", False)])
def test_environment_option_reaches_environment_conditions(
    environment: str, expected: bool
) -> None:
    tier = {"type": "environment_field", "field": "tier", "operator": "any",
            "targetValue": ["staging"], "additionalValues": {}, "idType": "userID"}  # fmt: skip
    specs = SpecsBuilder().gate("staging_only", [rule("staging", [tier])]).build()
    with Flagport(provider="statsig", offline=True, bootstrap=specs, environment=environment) as fp:
        assert fp.check_gate(User(user_id="1"), "staging_only") is expected


@pytest.mark.parametrize(("tier", "expected"), [("staging", True), ("production", False)])
def test_a_users_environment_tier_overrides_the_option(tier: str, expected: bool) -> None:
    cond = {"type": "environment_field", "field": "tier", "operator": "any",
            "targetValue": ["staging"], "additionalValues": {}, "idType": "userID"}  # fmt: skip
    specs = SpecsBuilder().gate("staging_only", [rule("staging", [cond])]).build()
    with Flagport(provider="statsig", offline=True, bootstrap=specs, environment="dev") as fp:
        user = User(user_id="1", environment_tier=tier)
        assert fp.check_gate(user, "staging_only") is expected
