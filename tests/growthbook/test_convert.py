"""User and event mapping: what GrowthBook conditions see, what events carry."""

from __future__ import annotations

from typing import Any

import pytest

from flagport import User
from flagport.events.model import Event, EventKind, FlagKind
from flagport_growthbook import GrowthBookProvider
from flagport_growthbook._convert import event_row, public_attributes, to_user_context

USER = User(
    user_id="u-9",
    email="a@b.c",
    country="FR",
    app_version="2.3.1",
    custom={"plan": "pro", "profile": {"age": 31}},
    private={"tier": "gold"},
    custom_ids={"company_id": "acme", "device_id": "d-1"},
)


def _feature(condition: dict[str, Any] | None = None, **rule: Any) -> dict[str, Any]:
    if condition is not None:
        rule["condition"] = condition
    return {"defaultValue": False, "rules": [{"id": "r", "force": True, **rule}]}


@pytest.fixture
def provider() -> GrowthBookProvider:
    p = GrowthBookProvider.from_options(
        offline=True,
        bootstrap={
            "features": {
                "by_custom": _feature({"plan": "pro"}),
                "by_nested": _feature({"profile.age": {"$gte": 30}}),
                "by_private": _feature({"tier": "gold"}),
                "by_builtin": _feature({"country": "FR", "email": {"$regex": "@b\\.c$"}}),
                "by_version": _feature({"app_version": {"$vgte": "2.3.0"}}),
                "by_user_id": _feature({"user_id": "u-9", "id": "u-9"}),
                "by_company": _feature({"company_id": "acme"}),
                "company_rollout": _feature(
                    None, coverage=1.0, hashAttribute="company_id", hashVersion=2
                ),
                "no_such_unit": _feature(
                    None, coverage=1.0, hashAttribute="team_id", hashVersion=2
                ),
            }
        },
    )
    assert isinstance(p, GrowthBookProvider)
    p.start()
    return p


@pytest.mark.parametrize(
    "flag",
    [
        "by_custom",
        "by_nested",
        "by_private",
        "by_builtin",
        "by_version",
        "by_user_id",
        "by_company",
        "company_rollout",
    ],
)
def test_user_fields_reach_conditions(provider: GrowthBookProvider, flag: str) -> None:
    assert provider.check_gate(USER, flag) is True
    assert provider.check_gate(User(user_id="other"), flag) is False


def test_missing_hash_unit_means_not_included(provider: GrowthBookProvider) -> None:
    assert provider.check_gate(USER, "no_such_unit") is False


def test_attributes_layout_and_cache() -> None:
    ctx = to_user_context(USER)
    assert ctx.attributes == {
        "company_id": "acme",
        "device_id": "d-1",
        "id": "u-9",
        "user_id": "u-9",
        "email": "a@b.c",
        "country": "FR",
        "app_version": "2.3.1",
        "plan": "pro",
        "profile": {"age": 31},
        "tier": "gold",
    }
    assert to_user_context(USER) is ctx
    assert "tier" not in public_attributes(USER)


def test_custom_id_attribute_wins_over_nothing_but_custom_wins_over_it() -> None:
    user = User(user_id="1", custom={"company_id": "from-custom"}, custom_ids={"company_id": "x"})
    assert to_user_context(user).attributes["company_id"] == "from-custom"


def test_custom_event_row() -> None:
    row = event_row(
        Event(name="purchase", user=USER, value=9.99, metadata={"sku": "A1", "at": {1, 2}}),
        "4.0.0",
    )
    assert row["event_name"] == "purchase"
    assert row["properties_json"] == {"sku": "A1", "at": [1, 2], "value": 9.99}
    assert (row["user_id"], row["device_id"]) == ("u-9", "d-1")
    assert row["context_json"] == {
        "company_id": "acme",
        "email": "a@b.c",
        "country": "FR",
        "app_version": "2.3.1",
        "plan": "pro",
        "profile": {"age": 31},
    }
    assert "gold" not in repr(row)


def test_config_exposure_row_keeps_metadata() -> None:
    row = event_row(
        Event(
            kind=EventKind.EXPOSURE,
            name="pricing",
            user=USER,
            flag_kind=FlagKind.CONFIG,
            group="r",
            rule_id="r",
            metadata={"reason": "TARGETING_MATCH", "manual": True},
        ),
        "4.0.0",
    )
    assert row["event_name"] == "$$feature_evaluated"
    assert row["properties_json"] == {
        "feature_key": "pricing",
        "source": "flagport",
        "rule_id": "r",
        "reason": "TARGETING_MATCH",
        "manual": True,
    }
