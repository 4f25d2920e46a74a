"""The mappings both directions share: users and contexts, reasons, error codes."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from openfeature.evaluation_context import EvaluationContext
from openfeature.exception import ErrorCode as OFErrorCode

from flagport import ErrorCode, InvalidContextError, Reason, User
from flagport_openfeature._convert import (
    context_to_user,
    error_for_code,
    of_error_code,
    of_reason,
    reason_from_of,
    user_to_context,
)


def test_context_fields_go_to_builtins_custom_ids_private_and_custom() -> None:
    user = context_to_user(
        EvaluationContext(
            "42",
            {
                "email": "a@b.c",
                "country": "US",
                "app_version": 3,
                "plan": "pro",
                "custom_ids": {"company_id": 7},
                "private": {"ssn": "x"},
                "signed_up": datetime(2025, 1, 2, tzinfo=UTC),
            },
        )
    )
    assert user == User(
        user_id="42",
        email="a@b.c",
        country="US",
        app_version="3",
        custom={"plan": "pro", "signed_up": "2025-01-02T00:00:00+00:00"},
        custom_ids={"company_id": "7"},
        private={"ssn": "x"},
    )


def test_targeting_key_wins_over_a_user_id_attribute() -> None:
    assert context_to_user(EvaluationContext("a", {"user_id": "b"})).user_id == "a"
    assert context_to_user(EvaluationContext(None, {"user_id": "b"})).user_id == "b"
    assert context_to_user(None) == User()


@pytest.mark.parametrize(
    "attributes",
    [{"country": ["US"]}, {"email": True}, {"custom_ids": "c1"}, {"custom_ids": {"a": []}}],
)
def test_invalid_contexts_name_the_attribute(attributes: dict[str, object]) -> None:
    with pytest.raises(InvalidContextError, match=next(iter(attributes))):
        context_to_user(EvaluationContext("1", attributes))  # type: ignore[arg-type]


def test_a_user_survives_the_trip_through_a_context() -> None:
    user = User(
        user_id="42",
        email="a@b.c",
        locale="de-DE",
        custom={"plan": "pro", "tags": ["a", "b"], "org": {"size": 5}},
        custom_ids={"company_id": "7"},
    )
    context = user_to_context(user)
    assert context.targeting_key == "42"
    assert context.attributes == {
        "email": "a@b.c",
        "locale": "de-DE",
        "plan": "pro",
        "tags": ["a", "b"],
        "org": {"size": 5},
        "custom_ids": {"company_id": "7"},
    }
    assert context_to_user(context) == user
    assert user_to_context(user) is context  # converted once per user object


def test_private_attributes_are_included_unless_asked_not_to() -> None:
    user = User(user_id="1", private={"ssn": "x"})
    assert user_to_context(user).attributes == {"ssn": "x"}
    assert user_to_context(user, include_private=False).attributes == {}


@pytest.mark.parametrize("reason", list(Reason))
def test_every_reason_round_trips(reason: Reason) -> None:
    assert reason_from_of(of_reason(reason)) is reason


def test_override_is_a_custom_openfeature_reason() -> None:
    assert of_reason(Reason.OVERRIDE) == "OVERRIDE"
    assert of_reason(Reason.SPLIT) == "SPLIT"


@pytest.mark.parametrize("code", list(ErrorCode))
def test_every_error_code_round_trips(code: ErrorCode) -> None:
    of_code = of_error_code(code)
    assert isinstance(of_code, OFErrorCode)
    assert error_for_code(of_code, "m").code is code


def test_openfeature_only_codes_map_to_the_nearest_flagport_code() -> None:
    assert error_for_code(OFErrorCode.TARGETING_KEY_MISSING, "m").code is ErrorCode.INVALID_CONTEXT
    assert error_for_code(OFErrorCode.PROVIDER_FATAL, "m").code is ErrorCode.GENERAL
    assert error_for_code("SOMETHING_NEW", None).code is ErrorCode.GENERAL
