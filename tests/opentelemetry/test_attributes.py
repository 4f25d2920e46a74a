"""The feature_flag.evaluation event carries the semantic conventions' attributes exactly."""

from __future__ import annotations

import json

from otel_memory import Otel

from flagport import Flagport, User
from flagport._redact import protect, release
from flagport.reasons import ErrorCode, Reason
from flagport.results import ConfigResult, GateResult
from flagport_opentelemetry.attributes import MAX_TEXT, for_result
from flagport_opentelemetry.options import OpenTelemetrySettings

US = User(user_id="u-42", country="US", email="a@example.com", custom={"plan": "pro"})


def test_a_gate_has_key_variant_reason_and_provider(otel: Otel, client: Flagport) -> None:
    otel.enable("all")
    assert client.check_gate(US, "new_checkout") is True
    assert otel.events() == [
        {
            "feature_flag.key": "new_checkout",
            "feature_flag.result.variant": "true",
            "feature_flag.result.reason": "targeting_match",
            "feature_flag.provider.name": "local",
            # a digest of the flags file the local provider loaded
            "feature_flag.version": client.stats()["provider"]["version"],
        }
    ]


def test_an_experiment_reports_its_group_and_a_config_its_rule(
    otel: Otel, client: Flagport
) -> None:
    otel.enable("all")
    group = client.get_experiment(US, "button_color").group
    client.get_config(US, "pricing")
    client.get_config(User(user_id="7"), "pricing")
    experiment, config, fallback = otel.events()
    assert experiment["feature_flag.result.variant"] == group
    assert experiment["feature_flag.result.reason"] == "split"
    assert config["feature_flag.result.variant"] == "pro"
    assert config["feature_flag.result.reason"] == "targeting_match"
    assert "feature_flag.result.variant" not in fallback
    assert fallback["feature_flag.result.reason"] == "default"


def test_an_error_has_error_type_and_message_in_lower_case_codes(
    otel: Otel, client: Flagport
) -> None:
    otel.enable("all")
    assert client.check_gate(US, "no_such_gate") is False
    (event,) = otel.events()
    assert event["feature_flag.result.reason"] == "error"
    assert event["error.type"] == "flag_not_found"
    assert "no_such_gate" in event["feature_flag.error.message"]


def test_an_override_is_a_custom_reason(otel: Otel, client: Flagport) -> None:
    otel.enable("all")
    client.override_gate("new_checkout", False)
    client.check_gate(US, "new_checkout")
    (event,) = otel.events()
    assert event["feature_flag.result.reason"] == "override"
    assert event["feature_flag.result.variant"] == "false"


def test_value_and_context_id_only_when_opted_in(otel: Otel, client: Flagport) -> None:
    otel.enable("all")
    client.get_config(US, "pricing")
    (default,) = otel.events()
    assert "feature_flag.result.value" not in default
    assert "feature_flag.context.id" not in default
    # Nothing else about the user either: no email, no country.
    assert not any(v == "a@example.com" or v == "US" for v in default.values())

    otel.logs.clear()
    otel.enable("all", include_value=True, include_context_id=True, set_id="shop/prod")
    client.get_config(US, "pricing")
    client.check_gate(US, "new_checkout")
    config, gate = otel.events()
    assert json.loads(config["feature_flag.result.value"]) == {"discount": 0.1}
    assert config["feature_flag.context.id"] == "u-42"
    assert config["feature_flag.set.id"] == "shop/prod"
    assert gate["feature_flag.result.value"] is True


def test_a_large_value_is_cut() -> None:
    settings = OpenTelemetrySettings(record="all", include_value=True)
    result = ConfigResult(name="big", value={"text": "x" * 10_000}, provider="local")
    attributes = for_result(None, result, settings)
    assert len(attributes["feature_flag.result.value"]) == MAX_TEXT


class Owner:
    """Holds a secret, as a provider holds its server key."""


def test_a_live_secret_in_an_error_message_is_redacted() -> None:
    secret = "secret-9f8e7d6c5b4a"
    owner = Owner()
    protect(owner, secret)
    try:
        result = GateResult(
            name="g",
            reason=Reason.ERROR,
            provider="statsig",
            error_code=ErrorCode.GENERAL,
            error_message=f"HTTP 401 for key {secret}",
        )
        attributes = for_result(None, result, OpenTelemetrySettings(record="all"))
    finally:
        release(owner)
    assert secret not in json.dumps(attributes)
    assert attributes["error.type"] == "general"


def test_a_huge_flag_name_is_cut_in_events_and_metrics(otel: Otel, client: Flagport) -> None:
    otel.enable("all")
    name = "x" * 1_000_000
    assert client.check_gate(US, name) is False
    (event,) = otel.events()
    assert len(event["feature_flag.key"]) == MAX_TEXT
    (series,) = otel.points("flagport.evaluations")
    assert len(dict(series)["feature_flag.key"]) == MAX_TEXT
