from __future__ import annotations

import logging
from collections.abc import Iterator
from typing import Any

import pytest

from flagport_growthbook.testing import GrowthBookLoopback, scenario_payload


@pytest.fixture
def payload() -> dict[str, Any]:
    """The common product scenario as a GrowthBook payload (a fresh copy)."""
    return scenario_payload()


@pytest.fixture
def server(payload: dict[str, Any]) -> Iterator[GrowthBookLoopback]:
    with GrowthBookLoopback(payload) as srv:
        yield srv


@pytest.fixture(autouse=True)
def _quiet_sdk_logs() -> Iterator[None]:
    # The SDK logs every failed connection attempt at ERROR; tests provoke many.
    sdk = logging.getLogger("growthbook")
    level = sdk.level
    sdk.setLevel(logging.CRITICAL)
    yield
    sdk.setLevel(level)
