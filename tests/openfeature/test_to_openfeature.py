"""flagport -> OpenFeature: the real OpenFeature SDK served by flagport's providers."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from openfeature import api
from openfeature.client import OpenFeatureClient
from openfeature.evaluation_context import EvaluationContext
from openfeature.exception import ErrorCode
from openfeature.exception import GeneralError as OFGeneralError
from openfeature.flag_evaluation import FlagEvaluationDetails, FlagValueType, Reason
from openfeature.hook import Hook, HookContext, HookHints
from openfeature.track import TrackingEventDetails

from flagport import Flagport, User
from flagport.providers.passall import PassAllProvider
from flagport_openfeature import FlagportProvider

US_PRO = EvaluationContext("42", {"country": "US", "plan": "pro"})


@pytest.fixture
def local(flags_file: Path) -> Iterator[Flagport]:
    """The flagport client the bridge wraps, and the reference answers come from."""
    with Flagport(provider="local", path=str(flags_file), watch=False) as fp:
        yield fp


@pytest.fixture
def client(local: Flagport) -> OpenFeatureClient:
    api.set_provider_and_wait(FlagportProvider(local, shutdown_client=False))
    return api.get_client()


def contexts(n: int = 30) -> list[EvaluationContext]:
    countries = ["US", "DE", "FR", "GB"]
    return [
        EvaluationContext(
            str(i), {"country": countries[i % 4], "plan": "pro" if i % 3 == 0 else "free"}
        )
        for i in range(n)
    ]


# -- gates -------------------------------------------------------------------------------
def test_metadata_names_the_flagport_provider(client: OpenFeatureClient) -> None:
    assert api.get_provider_metadata().name == "flagport:local"


def test_boolean_is_the_gate_with_rule_as_variant(client: OpenFeatureClient) -> None:
    details = client.get_boolean_details("new_checkout", False, US_PRO)
    assert details.value is True
    assert details.reason == Reason.TARGETING_MATCH
    assert details.variant == "us"
    assert details.flag_metadata == {"provider": "local", "rule_id": "us"}
    assert details.error_code is None


def test_boolean_agrees_with_flagport_for_many_users(
    client: OpenFeatureClient, local: Flagport
) -> None:
    seen = set()
    for ctx in contexts():
        user = User(user_id=ctx.targeting_key, country=ctx.attributes["country"])
        expected = local.get_gate(user, "new_checkout")
        details = client.get_boolean_details("new_checkout", False, ctx)
        assert (details.value, details.variant) == (expected.value, expected.rule_id)
        seen.add(details.value)
    assert seen == {True, False}


def test_unknown_gate_is_flag_not_found_with_default(client: OpenFeatureClient) -> None:
    details = client.get_boolean_details("no_such_gate", True, US_PRO)
    assert details.value is True
    assert details.reason == Reason.ERROR
    assert details.error_code == ErrorCode.FLAG_NOT_FOUND
    assert "no_such_gate" in (details.error_message or "")


def test_boolean_on_a_config_is_a_type_mismatch(client: OpenFeatureClient) -> None:
    details = client.get_boolean_details("pricing", False, US_PRO)
    assert details.error_code == ErrorCode.TYPE_MISMATCH
    assert details.error_message == "'pricing' is a flagport config, not a gate"


def test_override_reason_travels_as_a_custom_reason(
    client: OpenFeatureClient, local: Flagport
) -> None:
    local.override_gate("new_checkout", False, user_id="42")
    details = client.get_boolean_details("new_checkout", True, US_PRO)
    assert (details.value, details.reason, details.variant) == (False, "OVERRIDE", "override")


# -- objects -------------------------------------------------------------------------------
def test_object_is_the_config_value(client: OpenFeatureClient) -> None:
    details = client.get_object_details("pricing", {}, US_PRO)
    assert details.value == {
        "discount": 0.1,
        "currency": "USD",
        "seats": 5,
        "tiers": {"gold": 5},
    }
    assert type(details.value) is dict  # plain data, safe to modify
    assert (details.reason, details.variant) == (Reason.TARGETING_MATCH, "pro")


def test_object_is_the_experiment_parameters_with_group_as_variant(
    client: OpenFeatureClient, local: Flagport
) -> None:
    groups = set()
    for ctx in contexts():
        expected = local.get_experiment(User(user_id=ctx.targeting_key), "button_color")
        details = client.get_object_details("button_color", {}, ctx)
        assert details.value == dict(expected.value)
        assert details.variant == expected.group
        assert details.reason == Reason.SPLIT
        assert details.flag_metadata["in_experiment"] is True
        groups.add(details.variant)
    assert groups == {"control", "blue", "green"}


def test_unknown_object_serves_the_default(client: OpenFeatureClient) -> None:
    details = client.get_object_details("no_such_config", {"a": 1}, US_PRO)
    assert (details.value, details.error_code) == ({"a": 1}, ErrorCode.FLAG_NOT_FOUND)


def test_object_on_a_gate_is_a_type_mismatch(client: OpenFeatureClient) -> None:
    details = client.get_object_details("new_checkout", {}, US_PRO)
    assert details.error_code == ErrorCode.TYPE_MISMATCH


# -- strings, integers, floats ------------------------------------------------------------------
def test_string_of_an_experiment_is_its_group(client: OpenFeatureClient, local: Flagport) -> None:
    expected = local.get_experiment(User(user_id="42"), "button_color")
    details = client.get_string_details("button_color", "none", US_PRO)
    assert details.value == expected.group
    assert details.variant == expected.group


@pytest.mark.parametrize(
    ("method", "key", "default", "ctx", "expected"),
    [
        ("get_string_details", "button_color.color", "", US_PRO, None),
        ("get_float_details", "pricing.discount", 1.0, US_PRO, 0.1),
        ("get_float_details", "pricing.discount", 1.0, EvaluationContext("1"), 0.0),
        ("get_integer_details", "pricing.seats", 0, US_PRO, 5),
        ("get_integer_details", "pricing.tiers.gold", 0, US_PRO, 5),
        ("get_integer_details", "pricing.tiers.gold", 0, EvaluationContext("1"), 3),
        ("get_string_details", "pricing.currency", "", US_PRO, "USD"),
        ("get_string_details", "checkout.v2.title", "", US_PRO, "New checkout"),
    ],
)
def test_parameters_are_addressed_as_flag_dot_key(
    client: OpenFeatureClient,
    local: Flagport,
    method: str,
    key: str,
    default: Any,
    ctx: EvaluationContext,
    expected: Any,
) -> None:
    if expected is None:  # the experiment's parameter for this user
        expected = local.get_experiment(User(user_id="42"), "button_color").get("color")
    details = getattr(client, method)(key, default, ctx)
    assert details.error_code is None, details.error_message
    assert details.value == expected
    assert type(details.value) is type(default)


def test_absent_parameter_serves_the_default_with_reason_default(
    client: OpenFeatureClient,
) -> None:
    details = client.get_integer_details("pricing.seats", 7, EvaluationContext("1"))
    assert (details.value, details.reason, details.error_code) == (7, Reason.DEFAULT, None)


@pytest.mark.parametrize(
    ("method", "key", "default"),
    [
        ("get_string_details", "pricing.discount", "x"),
        ("get_integer_details", "pricing.discount", 0),
        ("get_string_details", "pricing", "x"),
        ("get_float_details", "pricing.currency", 0.0),
        ("get_integer_details", "pricing.tiers", 0),
    ],
)
def test_a_value_of_another_type_is_a_type_mismatch(
    client: OpenFeatureClient, method: str, key: str, default: Any
) -> None:
    details = getattr(client, method)(key, default, US_PRO)
    assert details.value == default
    assert details.error_code == ErrorCode.TYPE_MISMATCH
    assert key in (details.error_message or "")


def test_unknown_typed_flag_is_flag_not_found(client: OpenFeatureClient) -> None:
    details = client.get_string_details("nothing.here", "d", US_PRO)
    assert (details.value, details.error_code) == ("d", ErrorCode.FLAG_NOT_FOUND)
    assert "nothing" in (details.error_message or "")


# -- evaluation context ---------------------------------------------------------------------------
def test_context_attributes_reach_conditions(client: OpenFeatureClient) -> None:
    staff = EvaluationContext("5", {"email": "ann@example.com"})
    assert client.get_boolean_value("staff", False, staff) is True
    custom = EvaluationContext("5", {"beta_tester": True})
    assert client.get_boolean_value("beta", False, custom) is True
    private = EvaluationContext("5", {"private": {"beta_tester": True}})
    assert client.get_boolean_value("beta", False, private) is True
    assert client.get_boolean_value("beta", False, EvaluationContext("5")) is False


def test_custom_ids_give_other_bucketing_units(client: OpenFeatureClient, local: Flagport) -> None:
    for company in ("c1", "c2", "c3", "c4"):
        expected = local.get_experiment(User(custom_ids={"company_id": company}), "seat_pricing")
        details = client.get_object_details(
            "seat_pricing", {}, EvaluationContext("u", {"custom_ids": {"company_id": company}})
        )
        assert details.variant == expected.group is not None


def test_invalid_context_is_an_error_not_an_exception(client: OpenFeatureClient) -> None:
    details = client.get_boolean_details(
        "new_checkout", True, EvaluationContext("1", {"country": ["US"]})
    )
    assert (details.value, details.error_code) == (True, ErrorCode.INVALID_CONTEXT)
    assert "country" in (details.error_message or "")


def test_api_and_client_contexts_are_merged_by_the_sdk(client: OpenFeatureClient) -> None:
    api.set_evaluation_context(EvaluationContext(attributes={"country": "US"}))
    assert client.get_boolean_details("new_checkout", False, EvaluationContext("9")).variant == "us"


# -- hooks -----------------------------------------------------------------------------------
class Recorder(Hook):
    """Records the hook stages, and optionally adds attributes before evaluation."""

    def __init__(self, add: dict[str, Any] | None = None) -> None:
        self.add = add
        self.seen: list[tuple[str, str, Any]] = []

    def before(self, hook_context: HookContext, hints: HookHints) -> EvaluationContext | None:
        self.seen.append(("before", hook_context.flag_key, None))
        return EvaluationContext(attributes=self.add) if self.add else None

    def after(
        self,
        hook_context: HookContext,
        details: FlagEvaluationDetails[FlagValueType],
        hints: HookHints,
    ) -> None:
        self.seen.append(("after", hook_context.flag_key, details.variant))

    def error(self, hook_context: HookContext, exception: Exception, hints: HookHints) -> None:
        self.seen.append(("error", hook_context.flag_key, type(exception).__name__))


def test_hooks_see_flagport_answers_and_errors(client: OpenFeatureClient) -> None:
    recorder = Recorder()
    api.add_hooks([recorder])
    client.get_boolean_value("new_checkout", False, US_PRO)
    client.get_boolean_value("no_such_gate", False, US_PRO)
    assert recorder.seen == [
        ("before", "new_checkout", None),
        ("after", "new_checkout", "us"),
        ("before", "no_such_gate", None),
        ("error", "no_such_gate", "FlagNotFoundError"),
    ]


def test_a_before_hook_context_changes_the_flagport_answer(client: OpenFeatureClient) -> None:
    user = EvaluationContext("1", {"country": "DE"})
    assert client.get_boolean_details("new_checkout", False, user).variant != "us"
    client.add_hooks([Recorder(add={"country": "US"})])
    assert client.get_boolean_details("new_checkout", False, user).variant == "us"


# -- events and lifecycle -------------------------------------------------------------------------
def test_track_is_a_flagport_custom_event() -> None:
    bridge = FlagportProvider(provider="passall")
    api.set_provider_and_wait(bridge)
    api.get_client().track(
        "purchase",
        EvaluationContext("42", {"plan": "pro", "private": {"ssn": "x"}}),
        TrackingEventDetails(9.99, {"sku": "A1"}),
    )
    api.get_client().track("signup", EvaluationContext("43"))
    bridge.client.flush()
    events = bridge.client.provider.events  # type: ignore[attr-defined]
    assert [(e.name, e.value, dict(e.metadata), e.user.user_id) for e in events] == [
        ("purchase", 9.99, {"sku": "A1"}, "42"),
        ("signup", None, {}, "43"),
    ]
    assert "ssn" not in events[0].model_dump_json()
    assert events[0].user.custom == {"plan": "pro"}


def test_passall_serves_every_gate_and_the_callers_defaults() -> None:
    api.set_provider_and_wait(FlagportProvider(provider="passall"))
    client = api.get_client()
    assert api.get_provider_metadata().name == "flagport:passall"
    gate = client.get_boolean_details("anything", False, US_PRO)
    assert (gate.value, gate.reason) == (True, Reason.STATIC)
    obj = client.get_object_details("pricing", {"discount": 0}, US_PRO)
    assert (obj.value, obj.reason, obj.error_code) == ({"discount": 0}, Reason.STATIC, None)
    assert client.get_object_value("list", [1, 2], US_PRO) == [1, 2]
    text = client.get_string_details("banner", "hello", US_PRO)
    assert (text.value, text.reason, text.error_code) == ("hello", Reason.STATIC, None)
    assert client.get_float_value("pricing.discount", 0.5, US_PRO) == 0.5


def test_initialize_starts_and_shutdown_stops_the_client(flags_file: Path) -> None:
    bridge = FlagportProvider(provider="local", path=str(flags_file), watch=False)
    assert not bridge.client._started
    api.set_provider_and_wait(bridge)
    assert bridge.client._started
    api.shutdown()
    details = bridge.resolve_boolean_details("new_checkout", True, US_PRO)
    assert (details.value, details.error_code) == (True, ErrorCode.PROVIDER_NOT_READY)


def test_a_provider_that_fails_to_start_reports_an_error(tmp_path: Path) -> None:
    bridge = FlagportProvider(provider="local", path=str(tmp_path / "missing.yaml"), watch=False)
    with pytest.raises(OFGeneralError) as raised:
        api.set_provider_and_wait(bridge)
    assert "'local' is ERROR after start" in (raised.value.error_message or "")
    details = api.get_client().get_boolean_details("new_checkout", False, US_PRO)
    assert details.error_code == ErrorCode.PROVIDER_NOT_READY


def test_a_strict_client_never_raises_through_the_bridge(flags_file: Path) -> None:
    with Flagport(provider="local", path=str(flags_file), watch=False, strict=True) as fp:
        bridge = FlagportProvider(fp)
        details = bridge.resolve_boolean_details("nope", True, US_PRO)
        assert (details.value, details.error_code) == (True, ErrorCode.FLAG_NOT_FOUND)
        typed = bridge.resolve_integer_details("nope.x", 3, US_PRO)
        assert (typed.value, typed.error_code) == (3, ErrorCode.FLAG_NOT_FOUND)


def test_a_client_and_options_are_exclusive() -> None:
    with pytest.raises(TypeError):
        FlagportProvider(Flagport(PassAllProvider(PassAllProvider.Options())), path="x")
