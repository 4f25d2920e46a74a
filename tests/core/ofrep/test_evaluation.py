"""flagport results as OFREP evaluations, and request bodies as users."""

from __future__ import annotations

from typing import Any

import pytest

from flagport import ErrorCode, Reason, User
from flagport.ofrep.evaluation import (
    BulkEncoder,
    RequestError,
    flag_evaluation,
    user_from_request,
)
from flagport.results import ConfigResult, ExperimentResult, FrozenDict, GateResult


@pytest.mark.parametrize(
    ("code", "sent"),
    [
        (ErrorCode.TYPE_MISMATCH, "GENERAL"),
        (ErrorCode.PROVIDER_NOT_READY, "GENERAL"),
        (ErrorCode.GENERAL, "GENERAL"),
        (ErrorCode.PARSE_ERROR, "PARSE_ERROR"),
        (ErrorCode.INVALID_CONTEXT, "INVALID_CONTEXT"),
        (ErrorCode.FLAG_NOT_FOUND, "FLAG_NOT_FOUND"),
    ],
)
def test_every_flagport_error_code_has_an_ofrep_one(code: ErrorCode, sent: str) -> None:
    result = ConfigResult(name="c", reason=Reason.ERROR, error_code=code, error_message="boom")
    item = flag_evaluation("c", "config", result)
    expected: dict[str, Any] = {"key": "c", "errorCode": sent, "errorDetails": "boom"}
    metadata: dict[str, Any] = {"kind": "config"}
    if sent != code.value:  # flagport's own code travels in the metadata
        metadata["flagportErrorCode"] = code.value
    assert item == {**expected, "metadata": metadata}


def test_an_error_without_a_message_still_has_details() -> None:
    result = GateResult(name="g", reason=Reason.ERROR, error_code=ErrorCode.GENERAL)
    assert flag_evaluation("g", "gate", result)["errorDetails"]


@pytest.mark.parametrize(
    ("reason", "sent"),
    [
        (Reason.STATIC, "STATIC"),
        (Reason.DEFAULT, "DEFAULT"),
        (Reason.TARGETING_MATCH, "TARGETING_MATCH"),
        (Reason.SPLIT, "SPLIT"),
        (Reason.DISABLED, "DISABLED"),
        (Reason.OVERRIDE, "STATIC"),
        (Reason.STICKY, "CACHED"),
    ],
)
def test_reasons_are_openfeature_ones(reason: Reason, sent: str) -> None:
    item = flag_evaluation("g", "gate", GateResult(name="g", value=True, reason=reason))
    assert item["reason"] == sent
    own = reason in (Reason.OVERRIDE, Reason.STICKY)  # no OpenFeature name of their own
    assert item["metadata"].get("flagportReason") == (reason.value if own else None)


@pytest.mark.parametrize("reason", list(Reason))
def test_every_reason_has_an_ofrep_reason(reason: Reason) -> None:
    result = GateResult(name="g", value=False, reason=reason)
    if reason is Reason.ERROR:
        result = GateResult(name="g", reason=reason, error_code=ErrorCode.GENERAL)
    assert flag_evaluation("g", "gate", result)["key"] == "g"


def test_shapes_per_kind() -> None:
    gate = GateResult(name="g", value=False, reason=Reason.DEFAULT)
    assert flag_evaluation("g", "gate", gate) == {
        "key": "g",
        "reason": "DEFAULT",
        "value": False,
        "variant": "false",
        "metadata": {"kind": "gate"},
    }
    assigned = ExperimentResult(
        name="e", group="blue", value={"c": 1}, reason=Reason.SPLIT, rule_id="blue"
    )
    assert flag_evaluation("e", "experiment", assigned) == {
        "key": "e",
        "reason": "SPLIT",
        "value": {"c": 1},
        "variant": "blue",
        "metadata": {"kind": "experiment", "ruleId": "blue"},
    }
    outside = ExperimentResult(name="e", reason=Reason.DEFAULT)
    # No value: OFREP's "use the code default" (the client's own default).
    assert flag_evaluation("e", "experiment", outside) == {
        "key": "e",
        "reason": "DEFAULT",
        "variant": "default",
        "metadata": {"kind": "experiment"},
    }
    config = ConfigResult(name="c", value={"d": 0}, reason=Reason.DEFAULT)
    assert flag_evaluation("c", "config", config)["variant"] == "default"


def test_request_context_becomes_a_user() -> None:
    body = {
        "context": {
            "targetingKey": "42",
            "email": "a@b.c",
            "plan": "pro",
            "custom_ids": {"company_id": "7"},
        }
    }
    assert user_from_request(body) == User(
        user_id="42", email="a@b.c", custom={"plan": "pro"}, custom_ids={"company_id": "7"}
    )
    assert user_from_request({"context": {}}) == User()


@pytest.mark.parametrize(
    ("body", "says"),
    [
        ([], "JSON object"),
        ("x", "got a JSON string"),
        ({}, "has no 'context'"),
        ({"context": None}, "has no 'context'"),
        ({"context": [1]}, "must be a JSON object, got a JSON array"),
        ({"context": {"country": {"a": 1}}}, "'country' must be a string"),
        ({"context": {"custom_ids": 3}}, "'custom_ids' must be a mapping"),
    ],
)
def test_bad_bodies_are_invalid_contexts(body: object, says: str) -> None:
    with pytest.raises(RequestError, match=says) as caught:
        user_from_request(body)
    assert caught.value.code == "INVALID_CONTEXT"


def test_the_bulk_encoder_reuses_only_an_unchanged_answer() -> None:
    encoder = BulkEncoder()
    value = FrozenDict({"discount": 0})
    first = ConfigResult(name="c", value=value, reason=Reason.DEFAULT)
    assert encoder.encode("config", "c", first) == encoder.encode("config", "c", first)
    # A reload: the same rule and reason, a new value object.
    reloaded = ConfigResult(name="c", value=FrozenDict({"discount": 5}), reason=Reason.DEFAULT)
    assert b'"discount":5' in encoder.encode("config", "c", reloaded)
    matched = ConfigResult(name="c", value=value, reason=Reason.TARGETING_MATCH, rule_id="r")
    assert b'"variant":"r"' in encoder.encode("config", "c", matched)
    # A plain dict may change in place: never reused.
    mutable: dict[str, Any] = {"x": 1}
    plain = ConfigResult(name="c", value=mutable, reason=Reason.DEFAULT)
    encoder.encode("config", "c", plain)
    mutable["x"] = 2
    assert b'"x":2' in encoder.encode("config", "c", plain)
