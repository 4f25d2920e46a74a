"""The featbit provider announces what FeatBit's data sync changed, with the real SDK
against a loopback FeatBit server."""

from __future__ import annotations

import queue

import pytest

from flagport import DefinitionsChanged, Flagport, User
from flagport_featbit.testing import FeatBitLoopback, variation

pytestmark = pytest.mark.timeout(60)

US_PRO = User(user_id="user-us-1", country="US", custom={"plan": "pro"})
WAIT = 10.0


def test_pushed_patches_are_announced_and_a_reconnect_is_not(
    server: FeatBitLoopback, online: Flagport
) -> None:
    heard: queue.Queue[DefinitionsChanged] = queue.Queue()
    online.on_change(heard.put)
    assert online.get_config(US_PRO, "pricing").value == {"discount": 0.1}
    server.update_flag(
        "pricing",
        variations=[variation("pro", {"discount": 0.25}), variation("standard", {"discount": 0})],
    )
    assert heard.get(timeout=WAIT) == DefinitionsChanged("featbit", frozenset({"pricing"}))
    assert online.get_config(US_PRO, "pricing").get("discount") == 0.25  # already served
    syncs = len(server.received)
    server.disconnect_all()  # the SDK reconnects and asks for what it missed: nothing
    assert server.wait_for(lambda: len(server.received) > syncs)  # its data-sync request
    server.archive_flag("new_checkout")
    # In order: a reconnect announced as a change would have come first.
    assert heard.get(timeout=WAIT) == DefinitionsChanged("featbit", frozenset({"new_checkout"}))
    online.shutdown(timeout=3)
    assert heard.empty()


def test_the_first_data_sync_is_not_a_change(server: FeatBitLoopback, online: Flagport) -> None:
    heard: queue.Queue[DefinitionsChanged] = queue.Queue()
    online.on_change(heard.put)
    assert online.check_gate(US_PRO, "new_checkout") is True
    server.update_flag("new_checkout", isEnabled=False)
    assert heard.get(timeout=WAIT).flags == {"new_checkout"}  # the first one heard
    assert online.check_gate(US_PRO, "new_checkout") is False
