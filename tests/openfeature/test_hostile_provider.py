"""An OpenFeature provider that answers what it should not: flagport serves the default
with a clear error (or what is usable of the answer), never a library's exception."""

from __future__ import annotations

from typing import Any

import pytest
from openfeature.flag_evaluation import FlagResolutionDetails
from openfeature.provider import AbstractProvider, Metadata

from flagport import ErrorCode, Flagport, User

USER = User(user_id="u-1")


def _deep(levels: int) -> dict[str, Any]:
    value: dict[str, Any] = {}
    for _ in range(levels):
        value = {"a": value}
    return value


class Hostile(AbstractProvider):
    """Every resolver answers ``answer`` (resolution details, or anything else)."""

    def __init__(self, answer: Any) -> None:
        self.answer = answer

    def get_metadata(self) -> Metadata:
        return Metadata(name="hostile")

    def _answer(self, *args: Any, **kwargs: Any) -> Any:
        return self.answer

    resolve_boolean_details = resolve_string_details = _answer  # type: ignore[assignment]
    resolve_integer_details = resolve_float_details = _answer  # type: ignore[assignment]
    resolve_object_details = _answer  # type: ignore[assignment]


def _client(answer: Any) -> Flagport:
    return Flagport(provider="openfeature", of_provider=Hostile(answer), strict=False)


@pytest.mark.parametrize("answer", [None, "nope", 42], ids=["none", "a-string", "a-number"])
def test_an_answer_that_is_not_resolution_details_is_named(answer: Any) -> None:
    with _client(answer) as fp:
        for result in (fp.get_gate(USER, "f"), fp.get_config(USER, "f")):
            assert result.error_code is ErrorCode.GENERAL
            assert (
                f"the OpenFeature provider answered {type(answer).__name__} for 'f', not "
                "resolution details" in (result.error_message or "")
            )


@pytest.mark.parametrize("metadata", [[1, 2], "abc"], ids=["a-list", "a-string"])
def test_flag_metadata_that_is_not_a_mapping_is_ignored(metadata: Any) -> None:
    answer = FlagResolutionDetails(value={"a": 1}, variant="blue", flag_metadata=metadata)
    with _client(answer) as fp:
        config = fp.get_config(USER, "f")
        assert (config.error_code, config.value) == (None, {"a": 1})
        assert fp.get_experiment(USER, "f").group == "blue"


@pytest.mark.parametrize("value", [{1, 2}, b"abc", object()], ids=["a-set", "bytes", "an-object"])
def test_a_value_that_is_not_json_is_a_type_mismatch(value: Any) -> None:
    with _client(FlagResolutionDetails(value=value)) as fp:
        for result in (fp.get_config(USER, "f"), fp.get_experiment(USER, "f")):
            assert result.error_code is ErrorCode.TYPE_MISMATCH
            assert "value for 'f' is not JSON" in (result.error_message or "")


def test_a_variant_that_is_not_a_string_is_no_group() -> None:
    answer = FlagResolutionDetails(value={"a": 1}, variant=5, reason="SPLIT")  # type: ignore[arg-type]
    with _client(answer) as fp:
        result = fp.get_experiment(USER, "f")
        assert (result.error_code, result.group, result.in_experiment) == (None, None, False)


def test_a_deeply_nested_value_is_reported_briefly() -> None:
    with _client(FlagResolutionDetails(value=_deep(100_000))) as fp:
        gate = fp.get_gate(USER, "f")
        assert gate.error_code is ErrorCode.TYPE_MISMATCH  # before: a RecursionError
        assert len(gate.error_message or "") < 300
        assert fp.get_config(USER, "f").error_code is ErrorCode.GENERAL  # nested too deep
