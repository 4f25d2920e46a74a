"""A FeatBit bootstrap with a wrong type where the check looked inside: a located
configuration error, never a TypeError out of the constructor."""

from __future__ import annotations

from typing import Any

import pytest

from flagport import Flagport
from flagport.errors import ConfigurationError
from flagport_featbit.testing import data_sync, scenario_flags


@pytest.mark.parametrize(
    ("field", "value", "where"),
    [
        ("variations", 5, "variations: not a list"),
        ("variations", None, "variations: not a list"),
        ("disabledVariationId", {"a": 1}, "disabledVariationId: names no variation"),
        ("disabledVariationId", ["x"], "disabledVariationId: names no variation"),
    ],
)
def test_a_wrong_type_is_a_located_configuration_error(field: str, value: Any, where: str) -> None:
    payload = data_sync(scenario_flags())
    payload["data"]["featureFlags"][0][field] = value
    with pytest.raises(ConfigurationError) as caught:
        Flagport(provider="featbit", offline=True, bootstrap=payload)
    assert f"data.featureFlags[0].{where}" in str(caught.value)
