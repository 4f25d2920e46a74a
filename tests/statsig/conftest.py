from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from flagport_statsig.testing import StatsigLoopbackServer, scenario_specs


@pytest.fixture(autouse=True)
def _isolated_settings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # Settings files in the working directory and FLAGPORT_* variables would layer
    # under the options the tests pass; keep every test to what it states.
    monkeypatch.chdir(tmp_path)
    for var in list(os.environ):
        if var.startswith("FLAGPORT_") and var not in {
            "FLAGPORT_DISABLE_PLUGINS",
            "FLAGPORT_PLUGINS",
        }:
            monkeypatch.delenv(var)


@pytest.fixture
def specs() -> dict[str, Any]:
    return scenario_specs()


@pytest.fixture
def server(specs: dict[str, Any]) -> Iterator[StatsigLoopbackServer]:
    with StatsigLoopbackServer(specs) as srv:
        yield srv
