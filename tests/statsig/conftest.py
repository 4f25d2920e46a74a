from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from flagport_statsig.testing import StatsigLoopbackServer, scenario_specs


@pytest.fixture
def specs() -> dict[str, Any]:
    return scenario_specs()


@pytest.fixture
def server(specs: dict[str, Any]) -> Iterator[StatsigLoopbackServer]:
    with StatsigLoopbackServer(specs) as srv:
        yield srv
