"""The growthbook provider announces new definitions that the SDK's fetcher or SSE
client delivered, against a loopback server speaking GrowthBook's protocol."""

from __future__ import annotations

import copy
import queue
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import pytest

from flagport import DefinitionsChanged, Flagport, User
from flagport_growthbook.testing import GrowthBookLoopback

USER = User(user_id="u-1", country="US", custom={"plan": "pro"})
WAIT = 10.0


def eventually(check: Callable[[], bool]) -> bool:
    deadline = time.monotonic() + WAIT
    while not check() and time.monotonic() < deadline:
        time.sleep(0.02)
    return check()


@contextmanager
def listened(
    server: GrowthBookLoopback, **options: Any
) -> Iterator[tuple[Flagport, queue.Queue[DefinitionsChanged]]]:
    """A client of the loopback server, and the changes its ``on_change`` hears."""
    heard: queue.Queue[DefinitionsChanged] = queue.Queue()
    with Flagport(provider="growthbook", **server.options(**options)) as fp:
        fp.on_change(heard.put)
        yield fp, heard
    assert heard.empty()  # nothing after shutdown, nor anything unexpected before it


def with_discount(payload: dict[str, Any], discount: float) -> dict[str, Any]:
    changed = copy.deepcopy(payload)
    changed["features"]["pricing"]["rules"][0]["force"] = {"discount": discount}
    return changed


def test_a_polled_change_is_announced_and_a_304_is_not(
    server: GrowthBookLoopback, payload: dict[str, Any]
) -> None:
    with listened(server, refresh_interval=0.1) as (fp, heard):
        assert fp.get_config(USER, "pricing").get("discount", 0.0) == 0.1
        fetches = server.feature_fetches()
        assert eventually(lambda: server.feature_fetches() >= fetches + 2)  # 304s
        assert heard.empty()
        server.set_payload(with_discount(payload, 0.3))
        assert heard.get(timeout=WAIT) == DefinitionsChanged("growthbook", frozenset({"pricing"}))
        assert fp.get_config(USER, "pricing").get("discount", 0.0) == 0.3
        server.set_payload(with_discount(payload, 0.3))  # new date and ETag, same features
        fetches = server.feature_fetches()
        assert eventually(lambda: server.feature_fetches() >= fetches + 2)


@pytest.mark.parametrize("inline", [True, False], ids=["features-event", "features-updated"])
def test_a_streamed_change_is_announced(
    server: GrowthBookLoopback, payload: dict[str, Any], inline: bool
) -> None:
    with listened(server, streaming=True, refresh_interval=0) as (fp, heard):
        assert fp.check_gate(USER, "new_checkout") is True
        assert server.wait_for_streams(1, timeout=WAIT)
        changed = with_discount(payload, 0.25)
        del changed["features"]["new_checkout"]
        server.push(changed, inline=inline)
        assert heard.get(timeout=WAIT) == DefinitionsChanged(
            "growthbook", frozenset({"pricing", "new_checkout"})
        )


def test_a_saved_group_edit_may_change_any_feature(
    server: GrowthBookLoopback, payload: dict[str, Any]
) -> None:
    with listened(server, refresh_interval=0.1) as (fp, heard):
        fp.check_gate(USER, "new_checkout")
        changed = copy.deepcopy(payload)
        changed["savedGroups"] = {**changed.get("savedGroups", {}), "grp_new": ["u-9"]}
        server.set_payload(changed)
        assert heard.get(timeout=WAIT) == DefinitionsChanged("growthbook", None)
