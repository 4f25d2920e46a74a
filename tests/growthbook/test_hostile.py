"""GrowthBook payloads and servers a careless or hostile party would send."""

from __future__ import annotations

import copy
from typing import Any

import pytest
from polling import eventually  # tests/support

from flagport import Flagport, User
from flagport.errors import ConfigurationError
from flagport_growthbook._definitions import build_definitions
from flagport_growthbook.testing import GrowthBookLoopback

USER = User(user_id="u-1", country="US")


def _with(payload: dict[str, Any], path: tuple[Any, ...], value: Any) -> dict[str, Any]:
    changed = copy.deepcopy(payload)
    here = changed
    for step in path[:-1]:
        here = here[step]
    here[path[-1]] = value
    return changed


WRONG_TYPES = [
    (("savedGroups",), "ab", "savedGroups"),
    (("savedGroups",), 1, "savedGroups"),
    (("savedGroups",), [1, "a"], "savedGroups"),
    (("contextualBandits",), "ab", "contextualBandits"),
    (
        ("features", "button_color", "rules", 0, "hashAttribute"),
        {"a": 1},
        "features.button_color.rules[0].hashAttribute",
    ),
    (
        ("features", "button_color", "rules", 0, "fallbackAttribute"),
        ["id"],
        "features.button_color.rules[0].fallbackAttribute",
    ),
]


@pytest.mark.parametrize(("path", "value", "where"), WRONG_TYPES)
def test_a_wrong_type_is_a_located_problem(
    payload: dict[str, Any], path: tuple[Any, ...], value: Any, where: str
) -> None:
    with pytest.raises(ConfigurationError) as caught:
        build_definitions(_with(payload, path, value), "api payload")
    assert f"api payload at {where}:" in str(caught.value)


@pytest.mark.parametrize(("path", "value", "where"), WRONG_TYPES[:1] + WRONG_TYPES[-2:-1])
def test_a_wrongly_typed_payload_keeps_the_provider_polling(
    payload: dict[str, Any],
    path: tuple[Any, ...],
    value: Any,
    where: str,
    caplog: pytest.LogCaptureFixture,
) -> None:
    with GrowthBookLoopback(_with(payload, path, value)) as server:
        fp = Flagport(
            provider="growthbook",
            **server.options(init_timeout=0.5, retry_interval=0.1, refresh_interval=0.1),
        )
        try:
            assert fp.get_gate(USER, "new_checkout").error_code is not None
            assert eventually(lambda: where in caplog.text)
            server.set_payload(payload)
            assert eventually(lambda: fp.check_gate(USER, "new_checkout") is True)
        finally:
            fp.shutdown(timeout=3)
