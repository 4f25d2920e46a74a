from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from flagport import Flagport
from flagport_featbit import FeatBitProvider
from flagport_featbit.testing import FeatBitLoopback, data_sync, scenario_flags


@pytest.fixture
def bootstrap() -> dict[str, Any]:
    """The common scenario as a FeatBit data-sync message."""
    return data_sync(scenario_flags())


@pytest.fixture
def offline(bootstrap: dict[str, Any]) -> Iterator[FeatBitProvider]:
    """A started offline provider over the scenario."""
    provider = FeatBitProvider.from_options(offline=True, bootstrap=bootstrap)
    provider.start()
    yield provider
    provider.shutdown(timeout=2)


@pytest.fixture
def server() -> Iterator[FeatBitLoopback]:
    with FeatBitLoopback() as srv:
        yield srv


@pytest.fixture
def online(server: FeatBitLoopback) -> Iterator[Flagport]:
    """A Flagport client over the featbit provider connected to the loopback server."""
    client = Flagport(
        provider="featbit", strict=True, **server.provider_options(connect_timeout=1.0)
    )
    yield client
    client.shutdown(timeout=3)
