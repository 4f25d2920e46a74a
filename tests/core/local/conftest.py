"""Fixtures shared by the local provider's tests."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
from flag_server import FlagServer, flag_server  # tests/support
from polling import eventually  # tests/support
from url_helpers import flags  # tests/support

Waiter = Callable[..., bool]


def _wait_for(condition: Callable[[], bool], timeout: float = 10.0) -> bool:
    return eventually(condition, timeout)


@pytest.fixture
def wait_for() -> Waiter:
    """Poll ``condition`` until it holds or ``timeout`` seconds pass; return the last check.

    For things another thread does (a reload, a watcher callback): tests bound the
    wait, they do not time it.
    """
    return _wait_for


@pytest.fixture
def server() -> Iterator[FlagServer]:
    """A flags server on 127.0.0.1 serving version 1 at ``/flags.yaml``."""
    with flag_server() as running:
        running.put("/flags.yaml", flags(1))
        yield running
