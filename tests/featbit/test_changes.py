"""The featbit provider announces what FeatBit's data sync changed, with the real SDK
against a loopback FeatBit server."""

from __future__ import annotations

import queue

import pytest

from flagport import DefinitionsChanged, Flagport, User
from flagport_featbit import FeatBitProvider
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


# -- a patch within start() is what the application starts with; one after the mark is not --
def patched(provider: FeatBitProvider, server: FeatBitLoopback) -> None:
    """Push a patch (new_checkout off) and wait until the provider's SDK applied it."""
    updates = provider._updates
    server.update_flag("new_checkout", isEnabled=False)
    assert server.wait_for(lambda: provider._updates > updates)


def test_a_patch_right_after_the_constructor_within_start_announces_nothing(
    server: FeatBitLoopback,
) -> None:
    class PatchWithinStart(FeatBitProvider):
        def start(self) -> None:
            super().start()  # FBClient's constructor returned with the first data sync
            patched(self, server)

    heard: queue.Queue[DefinitionsChanged] = queue.Queue()
    provider = PatchWithinStart.from_options(**server.provider_options(connect_timeout=1.0))
    with Flagport(provider) as fp:
        fp.on_change(heard.put)
        assert fp.check_gate(US_PRO, "new_checkout") is False  # what the application starts with
        server.update_flag("pricing", variations=[variation("pro", {"discount": 0.3})])
        # Had the patch within start() been announced, "new_checkout" would come first.
        assert heard.get(timeout=WAIT) == DefinitionsChanged("featbit", frozenset({"pricing"}))
    assert heard.empty()


def test_a_patch_right_after_the_client_serves_the_start_is_announced(
    server: FeatBitLoopback,
) -> None:
    class PatchAfterMark(FeatBitProvider):
        def mark_serving(self) -> None:
            super().mark_serving()
            patched(self, server)  # before any evaluation

    heard: queue.Queue[DefinitionsChanged] = queue.Queue()
    provider = PatchAfterMark.from_options(**server.provider_options(connect_timeout=1.0))
    with Flagport(provider) as fp:
        fp.on_change(heard.put)
        assert fp.check_gate(US_PRO, "new_checkout") is False  # served already, never dropped:
        assert heard.get(timeout=WAIT) == DefinitionsChanged("featbit", frozenset({"new_checkout"}))
    assert heard.empty()
