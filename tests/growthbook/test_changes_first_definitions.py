"""What start() ends with is what the application starts with: the growthbook provider
announces the first features that arrive after a start that found none (served defaults
until then), and never what loaded within the start. Real SDK fetcher and SSE client
against the loopback server."""

from __future__ import annotations

import copy
import queue
import time
from collections.abc import Callable
from typing import Any

import pytest

from flagport import DefinitionsChanged, ErrorCode, Flagport, User
from flagport_growthbook.testing import GrowthBookLoopback

USER = User(user_id="u-1", country="US", custom={"plan": "pro"})
WAIT = 10.0


def eventually(check: Callable[[], bool]) -> bool:
    deadline = time.monotonic() + WAIT
    while not check() and time.monotonic() < deadline:
        time.sleep(0.02)
    return check()


def refuse(server: GrowthBookLoopback) -> Callable[[], None]:
    """Make the server answer the provider's key with 404 (as for an unknown key); the
    returned function serves it again."""
    key = server.client_key
    server.client_key = "sdk-not-this-one"

    def serve() -> None:
        server.client_key = key

    return serve


@pytest.mark.parametrize("streaming", [False, True], ids=["polling", "streaming"])
def test_the_first_features_after_a_failed_start_are_announced_naming_every_flag(
    server: GrowthBookLoopback, payload: dict[str, Any], streaming: bool
) -> None:
    options = server.options(
        init_timeout=0.3, retry_interval=0.1, refresh_interval=0.1, streaming=streaming
    )
    serve = refuse(server)
    heard: queue.Queue[DefinitionsChanged] = queue.Queue()
    with Flagport(provider="growthbook", **options) as fp:
        fp.on_change(heard.put)
        assert fp.get_gate(USER, "new_checkout").error_code is ErrorCode.PROVIDER_NOT_READY
        serve()
        change = heard.get(timeout=WAIT)
        assert change == DefinitionsChanged("growthbook", frozenset(payload["features"]))
        assert {"new_checkout", "pricing"} <= (change.flags or set())
        assert fp.check_gate(USER, "new_checkout") is True  # served before it was heard
        fetches = server.feature_fetches()
        assert eventually(lambda: server.feature_fetches() >= fetches + 2)
    assert heard.empty()  # once: later fetches of the same features are no change


def test_the_first_good_payload_after_a_bad_one_at_start_is_announced(
    server: GrowthBookLoopback, payload: dict[str, Any]
) -> None:
    server.set_payload({"features": {"pricing": 42}})  # refused: not a feature
    heard: queue.Queue[DefinitionsChanged] = queue.Queue()
    with Flagport(provider="growthbook", **server.options(refresh_interval=0.1)) as fp:
        fp.on_change(heard.put)
        assert fp.get_config(USER, "pricing").error_code is ErrorCode.PROVIDER_NOT_READY
        server.set_payload(payload)
        assert heard.get(timeout=WAIT) == DefinitionsChanged(
            "growthbook", frozenset(payload["features"])
        )
        assert fp.get_config(USER, "pricing").get("discount", 0.0) == 0.1
    assert heard.empty()


def test_a_start_that_loads_features_announces_nothing(
    server: GrowthBookLoopback, payload: dict[str, Any]
) -> None:
    heard: queue.Queue[DefinitionsChanged] = queue.Queue()
    with Flagport(provider="growthbook", **server.options(refresh_interval=0.1)) as fp:
        fp.on_change(heard.put)  # before the provider starts
        assert fp.check_gate(USER, "new_checkout") is True
        fetches = server.feature_fetches()
        assert eventually(lambda: server.feature_fetches() >= fetches + 2)
        assert heard.empty()
        changed = copy.deepcopy(payload)
        changed["features"]["new_checkout"]["defaultValue"] = True
        server.set_payload(changed)
        # The first change heard names only what changed: the start's features were the base.
        assert heard.get(timeout=WAIT) == DefinitionsChanged(
            "growthbook", frozenset({"new_checkout"})
        )
    assert heard.empty()
