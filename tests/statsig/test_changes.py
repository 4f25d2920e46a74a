"""The statsig provider announces new definitions from the SDK's own ``specs_updated``
event, against a loopback server speaking Statsig's protocol."""

from __future__ import annotations

import queue
import time
from typing import Any

from flagport import DefinitionsChanged, Flagport, User
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
