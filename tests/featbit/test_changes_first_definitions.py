"""What start() ends with is what the application starts with: the featbit provider
announces the first data sync that arrives after a start that found none (served
defaults until then), and never what loaded within the start. Real SDK, loopback server."""

from __future__ import annotations

import queue
from collections.abc import Iterator

import pytest

from flagport import DefinitionsChanged, ErrorCode, Flagport, User
from flagport_featbit.testing import FeatBitLoopback, scenario_flags

pytestmark = pytest.mark.timeout(60)

US_PRO = User(user_id="user-us-1", country="US", custom={"plan": "pro"})
WAIT = 10.0


@pytest.fixture
def empty() -> Iterator[FeatBitLoopback]:
    """A FeatBit environment without any flag."""
    with FeatBitLoopback(flags=[]) as srv:
        yield srv


def test_the_first_sync_after_a_failed_start_is_announced_naming_every_flag(
    server: FeatBitLoopback,
) -> None:
    server.available = False  # handshakes refused: the start finds no definitions
    heard: queue.Queue[DefinitionsChanged] = queue.Queue()
    client = Flagport(
        provider="featbit", **server.provider_options(start_wait=0.3, connect_timeout=1.0)
    )
    try:
        client.on_change(heard.put)
        before = client.get_gate(US_PRO, "new_checkout", default=False)
        assert before.error_code is ErrorCode.PROVIDER_NOT_READY
        server.available = True  # the SDK's next attempt syncs
        change = heard.get(timeout=WAIT)
        every = frozenset(f["key"] for f in scenario_flags() if not f.get("isArchived"))
        assert change == DefinitionsChanged("featbit", every)
        assert {"new_checkout", "pricing"} <= (change.flags or set())
        after = client.get_gate(US_PRO, "new_checkout", default=False)  # served already
        assert (after.value, after.error_code) == (True, None)
        server.update_flag("new_checkout", isEnabled=False)
        # In order: a second announcement of the first sync would have come first.
        assert heard.get(timeout=WAIT) == DefinitionsChanged("featbit", frozenset({"new_checkout"}))
    finally:
        client.shutdown(timeout=3)
    assert heard.empty()


def test_a_start_that_syncs_an_empty_environment_announces_nothing(
    empty: FeatBitLoopback,
) -> None:
    heard: queue.Queue[DefinitionsChanged] = queue.Queue()
    client = Flagport(provider="featbit", **empty.provider_options(connect_timeout=1.0))
    try:
        client.on_change(heard.put)  # before the provider starts
        assert client.get_gate(US_PRO, "new_checkout").error_code is ErrorCode.FLAG_NOT_FOUND
        (flag,) = [f for f in scenario_flags() if f["key"] == "new_checkout"]
        empty.set_flag(flag)
        # The first change heard names the flag added: the start's (empty) sync was the base.
        assert heard.get(timeout=WAIT) == DefinitionsChanged("featbit", frozenset({"new_checkout"}))
        assert client.check_gate(US_PRO, "new_checkout") is True
    finally:
        client.shutdown(timeout=3)
    assert heard.empty()
