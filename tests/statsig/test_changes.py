"""The statsig provider announces new definitions from the SDK's own ``specs_updated``
event, against a loopback server speaking Statsig's protocol. What start() ends with is
what the application starts with: not announced; after a start that found none, the first
definitions are (the application was served defaults until then)."""

from __future__ import annotations

import queue
import time
from typing import Any

from flagport import DefinitionsChanged, ErrorCode, Flagport, User
from flagport_statsig import StatsigProvider
from flagport_statsig.testing import StatsigLoopbackServer, scenario_specs

US = User(user_id="u-us", country="US", custom={"plan": "pro"})
WAIT = 15.0


def spec_gets(server: StatsigLoopbackServer) -> int:
    return sum(1 for method, path, *_ in server.requests if method == "GET" and "specs" in path)


def wait_until(condition: Any) -> bool:
    deadline = time.monotonic() + WAIT
    while not condition() and time.monotonic() < deadline:
        time.sleep(0.05)
    return bool(condition())


def test_new_specs_from_a_sync_are_announced_with_their_flags(
    server: StatsigLoopbackServer,
) -> None:
    heard: queue.Queue[DefinitionsChanged] = queue.Queue()
    with Flagport(provider="statsig", **server.provider_options()) as fp:
        fp.on_change(heard.put)
        assert fp.get_config(US, "pricing").get("discount", 0.0) == 0.1
        polls = spec_gets(server)
        assert wait_until(lambda: spec_gets(server) >= polls + 2)  # unchanged syncs
        assert heard.empty()  # neither the first load nor an unchanged sync is a change
        new = scenario_specs()
        new["dynamic_configs"]["pricing"]["rules"][0]["returnValue"] = {"discount": 0.25}
        new["feature_gates"]["beta"] = new["feature_gates"]["new_checkout"]
        server.push_specs(new)
        change = heard.get(timeout=WAIT)
        assert change == DefinitionsChanged("statsig", frozenset({"pricing", "beta"}))
        assert fp.get_config(US, "pricing").get("discount", 0.0) == 0.25  # already served
        server.push_specs(new)  # a newer time, the same specs
        polls = spec_gets(server)
        assert wait_until(lambda: spec_gets(server) >= polls + 2)
    assert heard.empty()


def every_flag(specs: dict[str, Any]) -> frozenset[str]:
    """The names of every gate, config, experiment and layer of a specs download."""
    return frozenset(
        name
        for section in ("feature_gates", "dynamic_configs", "layer_configs")
        for name in specs.get(section) or {}
    )


def test_the_first_specs_after_a_failed_start_are_announced_naming_every_flag(
    server: StatsigLoopbackServer,
) -> None:
    server.fail_status = 503  # the start finds no definitions
    heard: queue.Queue[DefinitionsChanged] = queue.Queue()
    with Flagport(provider="statsig", **server.provider_options(init_timeout_ms=300)) as fp:
        fp.on_change(heard.put)
        assert fp.get_config(US, "pricing").error_code is ErrorCode.PROVIDER_NOT_READY
        server.fail_status = None
        change = heard.get(timeout=WAIT)
        assert change == DefinitionsChanged("statsig", every_flag(server.specs))
        assert {"new_checkout", "pricing"} <= (change.flags or set())
        # Served before the callback heard of them.
        assert fp.get_config(US, "pricing").get("discount", 0.0) == 0.1
        assert fp.get_gate(US, "new_checkout").error_code is None
        polls = spec_gets(server)
        assert wait_until(lambda: spec_gets(server) >= polls + 2)  # unchanged syncs
    assert heard.empty()  # one change, nothing for the syncs that found nothing new


def test_a_start_that_loads_definitions_announces_nothing(
    server: StatsigLoopbackServer,
) -> None:
    heard: queue.Queue[DefinitionsChanged] = queue.Queue()
    with Flagport(provider="statsig", **server.provider_options()) as fp:
        fp.on_change(heard.put)  # before the provider starts
        assert fp.get_config(US, "pricing").get("discount", 0.0) == 0.1
        polls = spec_gets(server)
        assert wait_until(lambda: spec_gets(server) >= polls + 2)
        assert heard.empty()
        new = dict(server.specs)
        new["feature_gates"] = {
            **new["feature_gates"],
            "beta": new["feature_gates"]["new_checkout"],
        }
        server.push_specs(new)
        # The first change heard names only what changed: the start's specs were the base.
        assert heard.get(timeout=WAIT) == DefinitionsChanged("statsig", frozenset({"beta"}))


# -- a sync within start() is what the application starts with; one after the mark is not ---
def with_beta(specs: dict[str, Any], gate: str = "beta") -> dict[str, Any]:
    """``specs`` with one more gate (a copy of ``new_checkout``)."""
    new = dict(specs)
    new["feature_gates"] = {**new["feature_gates"], gate: new["feature_gates"]["new_checkout"]}
    return new


def synced(provider: StatsigProvider, server: StatsigLoopbackServer, specs: dict[str, Any]) -> None:
    """Serve ``specs`` and wait until the provider's SDK synced them."""
    updates = provider._spec_updates
    server.push_specs(specs)
    assert wait_until(lambda: provider._spec_updates > updates)


def test_a_sync_within_start_announces_nothing(server: StatsigLoopbackServer) -> None:
    class SyncWithinStart(StatsigProvider):
        def start(self) -> None:
            super().start()
            synced(self, server, with_beta(server.specs))  # before start() returns

    heard: queue.Queue[DefinitionsChanged] = queue.Queue()
    with Flagport(SyncWithinStart.from_options(**server.provider_options())) as fp:
        fp.on_change(heard.put)
        assert fp.check_gate(US, "beta") is True  # what the application starts with
        server.push_specs(with_beta(server.specs, "gamma"))
        # Had the sync within start() been announced, "beta" would come first.
        assert heard.get(timeout=WAIT) == DefinitionsChanged("statsig", frozenset({"gamma"}))
    assert heard.empty()


def test_a_sync_right_after_the_client_serves_the_start_is_announced(
    server: StatsigLoopbackServer,
) -> None:
    class SyncAfterMark(StatsigProvider):
        def mark_serving(self) -> None:
            super().mark_serving()
            synced(self, server, with_beta(server.specs))  # before any evaluation

    heard: queue.Queue[DefinitionsChanged] = queue.Queue()
    with Flagport(SyncAfterMark.from_options(**server.provider_options())) as fp:
        fp.on_change(heard.put)
        assert fp.check_gate(US, "beta") is True  # served already, and never dropped:
        assert heard.get(timeout=WAIT) == DefinitionsChanged("statsig", frozenset({"beta"}))
    assert heard.empty()


def test_a_provider_started_by_hand_keeps_its_start_when_a_client_takes_it(
    server: StatsigLoopbackServer,
) -> None:
    provider = StatsigProvider.from_options(**server.provider_options())
    provider.start()  # by hand, before the application serves from it: the SDK is up
    heard: queue.Queue[DefinitionsChanged] = queue.Queue()
    with Flagport(provider) as fp:  # its start() finds the SDK started and loads nothing
        fp.on_change(heard.put)
        assert fp.get_config(US, "pricing").get("discount", 0.0) == 0.1
        server.push_specs(with_beta(server.specs))
        # The specs the start by hand loaded are the base, not "every flag".
        assert heard.get(timeout=WAIT) == DefinitionsChanged("statsig", frozenset({"beta"}))
    assert heard.empty()
