"""flagport -> Statsig conversions: users, metadata, reasons."""

from __future__ import annotations

import logging
from datetime import UTC, datetime

import pytest

from flagport import Reason, User
from flagport_statsig import _convert
from flagport_statsig._convert import (
    build_rule_index,
    event_metadata,
    to_statsig_user,
)
from flagport_statsig.testing import scenario_specs


def test_every_user_field_is_carried() -> None:
    user = User(
        user_id="42",
        email="a@b.c",
        ip="10.0.0.1",
        user_agent="Mozilla/5.0",
        country="US",
        locale="en_US",
        app_version="2.3.1",
        custom={"plan": "pro", "tags": ["a", "b"], "seats": 3},
        private={"ssn": "123"},
        custom_ids={"company_id": "7"},
    )
    su = to_statsig_user(user)
    assert (su.user_id, su.email, su.ip, su.user_agent) == (
        "42",
        "a@b.c",
        "10.0.0.1",
        "Mozilla/5.0",
    )
    assert (su.country, su.locale, su.app_version) == ("US", "en_US", "2.3.1")
    assert su.custom == {"plan": "pro", "tags": ["a", "b"], "seats": 3}
    assert su.private_attributes == {"ssn": "123"}
    assert su.custom_ids == {"company_id": "7"}


def test_custom_ids_reach_statsig_as_given() -> None:
    # Keys differing only in case, empty ids and a custom id named user_id are the
    # user's own: Statsig's SDK picks among them (as written, then in lower case).
    ids = {"companyID": "X", "companyid": "Y", "COMPANYID": "", "user_id": "Z"}
    su = to_statsig_user(User(user_id="u1", custom_ids=ids))
    assert su.custom_ids == ids
    assert su.user_id == "u1"


def test_unset_fields_stay_unset() -> None:
    su = to_statsig_user(User(custom_ids={"device_id": "d1"}))
    assert su.email is None
    assert not su.custom
    assert not su.private_attributes
    assert su.custom_ids == {"device_id": "d1"}


def test_deep_values_are_json_encoded_with_one_warning(
    caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(_convert, "_warned", set())
    user = User(user_id="1", custom={"address": {"geo": {"lat": 1.5}}})
    with caplog.at_level(logging.WARNING, logger="flagport.statsig"):
        first = to_statsig_user(user)
        to_statsig_user(user)
    assert first.custom == {"address": '{"geo": {"lat": 1.5}}'}
    assert len([r for r in caplog.records if "address" in r.getMessage()]) == 1


def test_metadata_keeps_json_types_and_stringifies_the_rest(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(_convert, "_warned", set())
    when = datetime(2026, 1, 2, tzinfo=UTC)
    meta = event_metadata({"sku": "A1", "qty": 2, "ok": True, "tags": ("x",), "at": when})
    assert meta == {"sku": "A1", "qty": 2, "ok": True, "tags": ["x"], "at": str(when)}
    assert event_metadata({}) is None


def test_rule_index_tells_splits_from_targeting() -> None:
    index = build_rule_index(scenario_specs())
    assert index[("new_checkout", "us")] is Reason.TARGETING_MATCH
    assert index[("new_checkout", "rollout")] is Reason.SPLIT
    assert index[("button_color", "button_color.blue")] is Reason.SPLIT
    assert index[("pricing", "pro")] is Reason.TARGETING_MATCH
