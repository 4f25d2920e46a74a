"""Evaluation contexts (OpenFeature, OFREP) into flagport users: hostile attributes."""

from __future__ import annotations

from typing import Any

import pytest

from flagport.context import user_from_context
from flagport.errors import InvalidContextError


def _nested(depth: int) -> list[Any]:
    value: list[Any] = []
    for _ in range(depth):
        value = [value]
    return value


def _holding_itself() -> dict[str, Any]:
    loop: dict[str, Any] = {}
    loop["again"] = loop
    return loop


@pytest.mark.parametrize("attribute", ["tags", "private"])
@pytest.mark.parametrize(
    "value", [_nested(100_000), _holding_itself()], ids=["100k-deep", "holding-itself"]
)
def test_an_attribute_nested_too_deep_is_an_invalid_context_naming_it(
    attribute: str, value: Any
) -> None:
    # It was a RecursionError, which an evaluation reports as a GENERAL error.
    with pytest.raises(InvalidContextError, match=rf"attribute '{attribute}' nests deeper"):
        user_from_context("u1", {attribute: {"inner": value}})


def test_an_attribute_nested_within_the_limit_is_kept() -> None:
    user = user_from_context("u1", {"tags": _nested(50)})
    assert user.custom["tags"] == _nested(50)
