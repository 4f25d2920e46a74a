"""The statsig provider announces new definitions from the SDK's own ``specs_updated``
event, against a loopback server speaking Statsig's protocol. What start() ends with is
what the application starts with: not announced; after a start that found none, the first
definitions are (the application was served defaults until then)."""

from __future__ import annotations

import queue
import time
from typing import Any

from flagport import DefinitionsChanged, ErrorCode, Flagport, User
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
