from __future__ import annotations

import importlib.util
import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from flagport_growthbook.testing import GrowthBookLoopback


def _load_scenario() -> Any:
    # Loaded by path: the test tree is not a package (pytest runs in importlib mode).
    spec = importlib.util.spec_from_file_location(
        "flagport_growthbook_tests_scenario", Path(__file__).with_name("scenario.py")
    )
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


scenario = _load_scenario()


@pytest.fixture
def payload() -> dict[str, Any]:
    """The common product scenario as a GrowthBook payload (a fresh copy)."""
    return scenario.scenario_payload()  # type: ignore[no-any-return]


@pytest.fixture
def server(payload: dict[str, Any]) -> Iterator[GrowthBookLoopback]:
    with GrowthBookLoopback(payload) as srv:
        yield srv


@pytest.fixture(autouse=True)
def _quiet_sdk_logs() -> None:
    # The SDK logs every failed connection attempt at ERROR; tests provoke many.
    logging.getLogger("growthbook").setLevel(logging.CRITICAL)
