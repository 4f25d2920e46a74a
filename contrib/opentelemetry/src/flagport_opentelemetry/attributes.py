"""The attributes of the ``feature_flag.evaluation`` event, in the OpenTelemetry semantic
conventions' names (release candidate, ``model/feature-flags`` of semantic-conventions).

Reasons and error types are the conventions' lower-case values, which are flagport's
(OpenFeature's) codes in lower case; ``override`` is flagport's own reason, a custom
value as the conventions allow.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from flagport._redact import redact
from flagport.events.model import Event
from flagport.reasons import ErrorCode, Reason
from flagport.results import ExperimentResult, GateResult, Result, thaw
from flagport.user import User
from flagport_opentelemetry.options import OpenTelemetrySettings

__all__ = [
    "CONTEXT_ID",
    "ERROR_MESSAGE",
    "ERROR_TYPE",
    "EVENT_NAME",
    "KEY",
    "PROVIDER_NAME",
    "REASON",
    "SET_ID",
    "VALUE",
    "VARIANT",
    "VERSION",
    "for_exposure",
    "for_result",
    "result_series",
    "series",
]

EVENT_NAME = "feature_flag.evaluation"
KEY = "feature_flag.key"
VARIANT = "feature_flag.result.variant"
VALUE = "feature_flag.result.value"
REASON = "feature_flag.result.reason"
PROVIDER_NAME = "feature_flag.provider.name"
CONTEXT_ID = "feature_flag.context.id"
VERSION = "feature_flag.version"
SET_ID = "feature_flag.set.id"
ERROR_TYPE = "error.type"
ERROR_MESSAGE = "feature_flag.error.message"

#: Longest value, error message, flag name and context id reported: the conventions ask
#: to limit the size of ``feature_flag.result.value``, an error message can quote a whole
#: payload, a caller can pass any string as a flag name, and a user id often comes from
#: a request header.
MAX_TEXT = 1000


def _cut(text: str) -> str:
    return text if len(text) <= MAX_TEXT else text[: MAX_TEXT - 1] + "…"


#: The conventions' value of each flagport reason and error code: its lower-case form.
_LOWER: dict[str, str] = {
    **{r: r.value.lower() for r in Reason},
    **{c: c.value.lower() for c in ErrorCode},
}


def variant(result: Result) -> str | None:
    """The variant: a gate's ``true``/``false``, an experiment's group, a config's rule."""
    if type(result) is GateResult:
        return "true" if result.value else "false"
    if type(result) is ExperimentResult:
        return result.group
    return result.rule_id


def encode_value(value: Any) -> str | bool | int | float:
    """A served value as an attribute: scalars as they are, mappings as JSON text."""
    if isinstance(value, str):
        return _cut(value)
    if isinstance(value, bool | int | float):
        return value
    if isinstance(value, Mapping):
        value = thaw(value)
    return _cut(json.dumps(value, sort_keys=True, default=str, ensure_ascii=False))


def for_result(
    user: User | None, result: Result, settings: OpenTelemetrySettings
) -> dict[str, Any]:
    """The event's attributes for an evaluation result."""
    attributes: dict[str, Any] = {KEY: _cut(result.name), REASON: _LOWER[result.reason]}
    chosen = variant(result)
    if chosen is not None:
        attributes[VARIANT] = chosen
    if result.provider:
        attributes[PROVIDER_NAME] = result.provider
    if result.error_code is not None:
        attributes[ERROR_TYPE] = _LOWER[result.error_code]
        if result.error_message:
            attributes[ERROR_MESSAGE] = _cut(redact(result.error_message))
    if settings.include_value:
        attributes[VALUE] = encode_value(result.value)
    if settings.include_context_id and user is not None and user.user_id:
        attributes[CONTEXT_ID] = _cut(user.user_id)
    if settings.set_id:
        attributes[SET_ID] = settings.set_id
    return attributes


def for_exposure(event: Event, settings: OpenTelemetrySettings) -> dict[str, Any]:
    """The event's attributes for an exposure (the served value is not part of one)."""
    attributes: dict[str, Any] = {KEY: _cut(event.name)}
    reason = event.metadata.get("reason")
    if isinstance(reason, str):
        attributes[REASON] = reason.lower()
    if event.group is not None:
        attributes[VARIANT] = event.group
    if event.provider:
        attributes[PROVIDER_NAME] = event.provider
    if settings.include_context_id and event.user.user_id:
        attributes[CONTEXT_ID] = _cut(event.user.user_id)
    if settings.set_id:
        attributes[SET_ID] = settings.set_id
    return attributes


def result_series(result: Result) -> tuple[str, str | None, str | None, str | None, str | None]:
    """What the evaluation counter groups by: flag, variant, reason, provider, error type."""
    code = result.error_code
    return (
        _cut(result.name),
        variant(result),
        _LOWER[result.reason],
        result.provider,
        None if code is None else _LOWER[code],
    )


def series(
    attributes: dict[str, Any],
) -> tuple[str, str | None, str | None, str | None, str | None]:
    """:func:`result_series` from an event's attributes."""
    return (
        attributes[KEY],
        attributes.get(VARIANT),
        attributes.get(REASON),
        attributes.get(PROVIDER_NAME),
        attributes.get(ERROR_TYPE),
    )
