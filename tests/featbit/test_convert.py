"""flagport <-> FeatBit conversions: users, events, private attributes, flag reasons."""

from __future__ import annotations

import json
import logging
import threading
from typing import Any

import pytest
from fbclient.common_types import FBUser

from flagport import Event, EventKind, InvalidContextError, Reason, User
from flagport.errors import GeneralError, ProviderNotReadyError
from flagport_featbit._convert import (
    PRIVATE_MARKER,
    USER_CACHE_KEY,
    check_data_sync,
    compile_flag,
    compile_flags,
    encode_metrics,
    featbit_user,
)
from flagport_featbit._sdk import Counters, redact
from flagport_featbit.testing import make_flag, rollout, rule, scenario_flags, variation


def test_builtins_custom_and_ids_become_properties() -> None:
    user = User(
        user_id="42",
        email="a@b.c",
        country="US",
        app_version="2.3.1",
        custom={"plan": "pro", "age": 31, "beta": True, "ratio": 0.5},
        custom_ids={"company_id": "7"},
    )
    assert featbit_user(user) == {
        "key": "42",
        "name": "42",
        "email": "a@b.c",
        "country": "US",
        "app_version": "2.3.1",
        "plan": "pro",
        "age": "31",
        "beta": "true",
        "ratio": "0.5",
        "company_id": "7",
    }


def test_custom_name_is_the_featbit_display_name() -> None:
    user = User(user_id="42", custom={"name": "Alice"})
    assert featbit_user(user)["name"] == "Alice"
    assert FBUser.from_dict(featbit_user(user)).to_json_dict()["name"] == "Alice"


def test_user_is_converted_once_and_cached() -> None:
    user = User(user_id="42", custom={"plan": "pro"})
    first = featbit_user(user)
    assert user.provider_cache[USER_CACHE_KEY] is first
    assert featbit_user(user) is first


def test_user_without_id_is_invalid_context() -> None:
    with pytest.raises(InvalidContextError, match="user_id"):
        featbit_user(User(custom={"plan": "pro"}))


def test_lists_and_dicts_are_json_encoded_and_warned_once(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.WARNING, "flagport.featbit")
    user = User(
        user_id="1",
        custom={"tags_x1": ["a", "b"], "address_x1": {"city": "Oslo", "geo": {"lat": 59}}},
    )
    props = featbit_user(user)
    assert json.loads(props["tags_x1"]) == ["a", "b"]
    assert json.loads(props["address_x1"]) == {"city": "Oslo", "geo": {"lat": 59}}
    assert props["address_x1.city"] == "Oslo"
    assert props["address_x1.geo.lat"] == "59"
    featbit_user(User(user_id="2", custom={"tags_x1": ["c"]}))
    warnings = [r for r in caplog.records if "tags_x1" in r.getMessage()]
    assert len(warnings) == 1
    # The SDK itself would drop them silently; ours survive into FeatBit's user.
    customs = FBUser.from_dict(props).to_json_dict()["customizedProperties"]
    assert {"name": "tags_x1", "value": '["a","b"]'} in customs


def test_reserved_names_are_warned_not_silently_lost(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.WARNING, "flagport.featbit")
    props = featbit_user(User(user_id="1", custom={"keyId": "x"}))
    assert props["key"] == "1"
    assert "keyId" not in props
    assert any("'keyId'" in r.getMessage() for r in caplog.records)


def test_private_attributes_are_marked() -> None:
    user = User(
        user_id="1", custom={"plan": "pro"}, private={"ssn": "123", "home": {"city": "Oslo"}}
    )
    props = featbit_user(user)
    assert props["ssn"] == "123"
    assert props["home.city"] == "Oslo"
    assert json.loads(props[PRIVATE_MARKER]) == ["home", "home.city", "ssn"]


def test_redact_removes_private_properties_and_marker() -> None:
    user = User(
        user_id="1", custom={"plan": "pro"}, private={"ssn": "123", "home": {"city": "Oslo"}}
    )
    wire = [{"user": FBUser.from_dict(featbit_user(user)).to_json_dict(), "metrics": []}]
    assert redact(wire) == 1
    assert wire[0]["user"]["customizedProperties"] == [{"name": "plan", "value": "pro"}]


def test_redact_leaves_users_without_private_attributes() -> None:
    props = featbit_user(User(user_id="1", custom={"plan": "pro"}))
    wire = [{"user": FBUser.from_dict(props).to_json_dict()}, {"no": "user"}]
    assert redact(wire) == 0
    assert wire[0]["user"]["customizedProperties"] == [{"name": "plan", "value": "pro"}]


def _event(value: Any = None, **metadata: Any) -> Event:
    return Event(
        kind=EventKind.CUSTOM,
        name="purchase",
        user=User(user_id="1"),
        value=value,
        metadata=metadata,
    )


def test_event_value_and_numeric_metadata_become_metrics() -> None:
    metrics = encode_metrics(_event(9.99, qty=2, gift=True))
    assert metrics == {"purchase": 9.99, "purchase.qty": 2.0, "purchase.gift": 1.0}


def test_text_metadata_and_text_values_are_countable_metrics() -> None:
    metrics = encode_metrics(_event("gold", sku="A1", tags=["x", "y"]))
    assert metrics == {
        "purchase": 1.0,
        "purchase.value:gold": 1.0,
        "purchase.sku:A1": 1.0,
        'purchase.tags:["x","y"]': 1.0,
    }


def test_event_without_value_counts_one() -> None:
    assert encode_metrics(_event()) == {"purchase": 1.0}
    assert encode_metrics(_event("2.5")) == {"purchase": 2.5}


def test_metadata_encoding_is_warned_once(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.WARNING, "flagport.featbit")
    event = Event(name="checkout_x1", user=User(user_id="1"), metadata={"a": 1})
    encode_metrics(event)
    encode_metrics(event)
    assert len([r for r in caplog.records if "checkout_x1" in r.getMessage()]) == 1


# -- flags and reasons ---------------------------------------------------------------------
def _scenario(key: str) -> dict[str, Any]:
    return next(f for f in scenario_flags() if f["key"] == key)


def test_reasons_map_onto_flagport_reasons() -> None:
    gate = compile_flag(_scenario("new_checkout"))
    us = gate.result("gate", "rule match", "on")
    assert (us.value, us.reason, us.rule_id) == (True, Reason.TARGETING_MATCH, "rule-us")
    split = gate.result("gate", "fall through all rules", "off")
    assert (split.value, split.reason, split.rule_id) == (False, Reason.SPLIT, "fallthrough")
    off = gate.result("gate", "flag off", "off")
    assert (off.value, off.reason) == (False, Reason.DISABLED)
    target = gate.result("gate", "target match", "on")
    assert (target.reason, target.rule_id) == (Reason.TARGETING_MATCH, "targetUsers")


def test_results_are_built_once() -> None:
    flag = compile_flag(_scenario("button_color"))
    assert flag.result("experiment", "fall through all rules", "v-blue") is flag.result(
        "experiment", "fall through all rules", "v-blue"
    )


def test_experiment_groups_use_variation_names() -> None:
    flag = compile_flag(_scenario("button_color"))
    result = flag.result("experiment", "fall through all rules", "v-green")
    assert (result.group, dict(result.value), result.in_experiment) == (
        "green",
        {"color": "green"},
        True,
    )
    assert result.reason is Reason.SPLIT
    assert flag.is_experiment


def test_single_variation_fallthrough_is_default() -> None:
    flag = compile_flag(_scenario("pricing"))
    result = flag.result("config", "fall through all rules", "standard")
    assert (dict(result.value), result.reason) == ({"discount": 0}, Reason.DEFAULT)
    assert not flag.is_experiment


def test_non_object_values_are_wrapped() -> None:
    flag = compile_flag(
        make_flag(
            "banner",
            "string",
            [variation("a", "Hello"), variation("b", "Hi")],
            fallthrough=rollout(("a", 1.0)),
        )
    )
    assert dict(flag.result("config", "fall through all rules", "a").value) == {"value": "Hello"}


def test_rule_id_is_inferred_only_when_unambiguous() -> None:
    flag = compile_flag(
        make_flag(
            "multi",
            "boolean",
            [variation("on", True), variation("off", False)],
            rules=[
                rule("r1", [], rollout(("on", 1.0))),
                rule("r2", [], rollout(("on", 0.5), ("off", 0.5), in_experiment=True)),
            ],
            fallthrough=rollout(("off", 1.0)),
        )
    )
    off = flag.result("experiment", "rule match", "off")
    assert (off.rule_id, off.reason, off.in_experiment) == ("r2", Reason.SPLIT, True)
    on = flag.result("experiment", "rule match", "on")
    assert (on.rule_id, on.in_experiment) == (None, False)


@pytest.mark.parametrize(
    ("reason", "error"),
    [("client not ready", ProviderNotReadyError), ("error in evaluation", GeneralError)],
)
def test_vendor_error_reasons_raise(reason: str, error: type[Exception]) -> None:
    flag = compile_flag(_scenario("pricing"))
    with pytest.raises(error):
        flag.result("config", reason, None)


def test_unchanged_flags_keep_their_compiled_results() -> None:
    flags = {f["key"]: f for f in scenario_flags()}
    first = compile_flags(flags)
    result = first["pricing"].result("config", "rule match", "pro")
    changed = {**flags, "pricing": {**flags["pricing"], "updatedAt": "2026-02-01T00:00:00Z"}}
    second = compile_flags(changed, first)
    assert second["new_checkout"] is first["new_checkout"]
    assert second["pricing"] is not first["pricing"]
    assert second["pricing"].result("config", "rule match", "pro") is not result


def test_data_sync_check_accepts_the_scenario() -> None:
    message = {
        "messageType": "data-sync",
        "data": {"eventType": "full", "featureFlags": scenario_flags(), "segments": []},
    }
    normalised, problems = check_data_sync(message)
    assert problems == []
    assert normalised == message


def test_data_sync_check_reports_bad_disabled_variation() -> None:
    flags = scenario_flags()
    flags[0]["disabledVariationId"] = "nope"
    _, problems = check_data_sync({"featureFlags": flags})
    assert problems == [("data.featureFlags[0].disabledVariationId", "names no variation")]


def test_event_counter_is_exact_across_threads() -> None:
    counters = Counters()
    threads = [
        threading.Thread(target=lambda: [counters.accept() for _ in range(2000)]) for _ in range(4)
    ]
    for thread in threads:
        thread.start()
        assert counters.accepted >= 0
    for thread in threads:
        thread.join(timeout=30)
    assert counters.accepted == 8000
    assert counters.accepted == 8000
    counters.finished(8000, ok=True)
    assert counters.wait_for(counters.accepted, timeout=0.1)
