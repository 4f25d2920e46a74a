"""The growthbook provider announces new definitions that the SDK's fetcher or SSE
client delivered, against a loopback server speaking GrowthBook's protocol. What start()
ends with is what the application starts with: not announced; after a start that found
none, the first definitions are (the application was served defaults until then)."""

from __future__ import annotations

import copy
import queue
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import polling  # tests/support
import pytest

from flagport import DefinitionsChanged, ErrorCode, Flagport, User
from flagport_growthbook import GrowthBookProvider
from flagport_growthbook.testing import GrowthBookLoopback

USER = User(user_id="u-1", country="US", custom={"plan": "pro"})
WAIT = 10.0


def eventually(check: Callable[[], bool]) -> bool:
    return polling.eventually(check, WAIT)


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


#: The change heard when only ``new_checkout`` changed.
ONLY_NEW_CHECKOUT = DefinitionsChanged("growthbook", frozenset({"new_checkout"}))


def turn_on_new_checkout(server: GrowthBookLoopback, payload: dict[str, Any]) -> None:
    """Serve ``payload`` with ``new_checkout`` on for everyone."""
    changed = copy.deepcopy(payload)
    changed["features"]["new_checkout"]["defaultValue"] = True
    server.set_payload(changed)


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
        # The first change heard names only what changed: the start's features were the base.
        turn_on_new_checkout(server, payload)
        assert heard.get(timeout=WAIT) == ONLY_NEW_CHECKOUT
    assert heard.empty()


# -- a fetch within start() is what the application starts with; one after the mark is not --
def fetched(provider: GrowthBookProvider) -> bool:
    """Whether the provider's first fetch was served (waiting for it)."""
    sync = provider._sync
    return sync is not None and sync.loaded.wait(WAIT)


class FetchWithinStart(GrowthBookProvider):
    """Returns from start() only once the fetch that follows the bootstrap was served."""

    def start(self) -> None:
        super().start()
        assert fetched(self)


def test_a_fetch_within_start_after_the_bootstrap_announces_nothing(
    server: GrowthBookLoopback, payload: dict[str, Any]
) -> None:
    options = server.options(bootstrap=with_discount(payload, 0.5), refresh_interval=0.1)
    heard: queue.Queue[DefinitionsChanged] = queue.Queue()
    with Flagport(FetchWithinStart.from_options(**options)) as fp:
        fp.on_change(heard.put)
        # The fetched features: the application never saw the bootstrap's discount.
        assert fp.get_config(USER, "pricing").get("discount", 0.0) == 0.1
        # Had the fetch within start() been announced, "pricing" would come first.
        turn_on_new_checkout(server, payload)
        assert heard.get(timeout=WAIT) == ONLY_NEW_CHECKOUT
    assert heard.empty()


def test_a_fetch_right_after_the_client_serves_the_bootstrap_is_announced(
    server: GrowthBookLoopback, payload: dict[str, Any]
) -> None:
    server.answering.clear()  # the fetch that follows the bootstrap waits

    class FetchAfterMark(GrowthBookProvider):
        def mark_serving(self) -> None:
            super().mark_serving()
            server.answering.set()  # lands now: after the mark, before any evaluation
            assert fetched(self)

    options = server.options(bootstrap=with_discount(payload, 0.5), refresh_interval=0.1)
    heard: queue.Queue[DefinitionsChanged] = queue.Queue()
    with Flagport(FetchAfterMark.from_options(**options)) as fp:
        fp.on_change(heard.put)
        assert fp.get_config(USER, "pricing").get("discount", 0.0) == 0.1  # served already,
        assert heard.get(timeout=WAIT) == DefinitionsChanged(  # and never dropped
            "growthbook", frozenset({"pricing"})
        )
    assert heard.empty()
