"""Moving definitions from a vendor keeps every unit where it was, end to end.

The bucketing functions are compared with the SDKs in ``test_bucketing_vs_vendors``;
this checks the whole local provider (file -> compiled snapshot -> evaluation) against
the real SDKs running offline on the equivalent definitions of ``vendor_defs``: the
salts, weights, allocation and namespace of the flags file must reach the hash the
way the vendor feeds its own.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import vendor_defs as defs  # tests/support, on pytest's pythonpath

from flagport import Reason, User
from flagport.providers.local import LocalProvider

IDS: list[str] = defs.USER_IDS[:1500] + defs.USER_IDS[-4:]


def local(mode: str, extra: dict[str, Any] | None = None) -> LocalProvider:
    flags = defs.flagport_flags(mode)
    flags["experiments"].update(extra or {})
    provider = LocalProvider(LocalProvider.Options(flags=flags, watch=False))
    provider.start()
    return provider


@pytest.fixture(scope="module")
def statsig() -> Iterator[Any]:
    client = defs.offline_statsig()
    yield client
    client.shutdown().wait(5)


def test_statsig_definitions_keep_every_unit(statsig: Any) -> None:
    from statsig_python_core import StatsigUser

    provider = local("statsig")
    mismatches = []
    for uid in IDS:
        user, theirs = User(user_id=uid), StatsigUser(user_id=uid)
        gate = provider.evaluate_gate(user, defs.GATE)
        exp = provider.evaluate_experiment(user, defs.EXPERIMENT)
        if gate.value != statsig.check_gate(theirs, defs.GATE):
            mismatches.append(("gate", uid))
        if exp.group != statsig.get_experiment(theirs, defs.EXPERIMENT).group_name:
            mismatches.append(("experiment", uid))
        assert exp.reason is Reason.SPLIT
    assert mismatches == []


def test_growthbook_definitions_keep_every_unit() -> None:
    from growthbook import GrowthBook

    ns_name, ns_start, ns_end = defs.NAMESPACE
    weights = [
        {"name": name, "weight": weight}
        for name, weight in zip(defs.GROUPS, defs.GROWTHBOOK_WEIGHTS, strict=True)
    ]
    namespaced = {
        defs.NAMESPACED: {
            "allocation": defs.NAMESPACED_COVERAGE * 100,
            "namespace": {"name": ns_name, "range": [ns_start, ns_end]},
            "groups": weights,
        }
    }
    provider = local("growthbook", namespaced)
    gb = GrowthBook(features=defs.growthbook_features(2))
    mismatches = []
    inside = 0
    try:
        for uid in IDS:
            gb.set_attributes({"id": uid})
            user = User(user_id=uid)
            if provider.check_gate(user, defs.GATE) != gb.is_on(defs.GATE):
                mismatches.append(("gate", uid))
            for name in (defs.EXPERIMENT, defs.NAMESPACED):
                result = provider.evaluate_experiment(user, name)
                ours = -1 if result.group is None else defs.GROUPS.index(result.group)
                if ours != gb.eval_feature(name).value:
                    mismatches.append((name, uid))
                inside += name == defs.NAMESPACED and result.in_experiment
    finally:
        gb.destroy()
    assert mismatches == []
    assert 0.4 * len(IDS) < inside < 0.7 * len(IDS)


def test_featbit_definitions_keep_every_unit() -> None:
    client = defs.offline_featbit()
    provider = local("featbit")
    mismatches = []
    try:
        for uid in IDS:
            user, theirs = User(user_id=uid), {"key": uid, "name": uid}
            if provider.check_gate(user, defs.GATE) != client.variation(defs.GATE, theirs, False):
                mismatches.append(("gate", uid))
            group = provider.evaluate_experiment(user, defs.EXPERIMENT).group
            if group != client.variation_detail(defs.EXPERIMENT, theirs, {}).variation_id:
                mismatches.append(("experiment", uid))
    finally:
        client.stop()
    assert mismatches == []
