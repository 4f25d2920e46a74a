"""``fallback_unit`` on every split of a sticky experiment: its ``groups`` and its rules'
``split``, bucketed only while the client has a sticky store (as GrowthBook uses
``fallbackAttribute`` only with a sticky-bucket service)."""

from __future__ import annotations

from typing import Any

import pytest

from flagport import Flagport, Reason, User
from flagport.sticky import Assignment

GROUPS = [
    {"name": "control", "weight": 50, "value": {"color": "gray"}},
    {"name": "blue", "weight": 50, "value": {"color": "blue"}},
]
SPLIT_RULE = {
    "id": "split",
    "when": {"country": "US"},
    "split": {
        "variants": [
            {"group": "control", "value": {"color": "gray"}, "weight": 50},
            {"group": "blue", "value": {"color": "blue"}, "weight": 50},
        ]
    },
}
DEVICES = [User(country="US", custom_ids={"device_id": f"d{i}"}) for i in range(200)]


def flags(**experiment: Any) -> dict[str, Any]:
    base = {"unit": "user_id", "fallback_unit": "device_id", "sticky_rules": "growthbook"}
    return {"hash": "growthbook", "experiments": {"checkout": {**base, **experiment}}}


SHAPES = {
    "groups": flags(groups=GROUPS),
    "split rule": flags(rules=[SPLIT_RULE]),
}


@pytest.mark.parametrize("shape", SHAPES)
def test_a_split_buckets_the_fallback_unit_when_the_unit_is_missing(shape: str) -> None:
    fp = Flagport("local", flags=SHAPES[shape], sticky={"store": "memory"})
    results = [fp.get_experiment(u, "checkout") for u in DEVICES]
    assert {(r.in_experiment, r.reason) for r in results} == {(True, Reason.SPLIT)}
    assert {r.group for r in results} == {"control", "blue"}
    assert fp.flush()
    store = fp._sticky.store  # type: ignore[union-attr]
    stored = {
        u.custom_ids["device_id"]: store.load(f"device_id||{u.custom_ids['device_id']}")
        for u in DEVICES
    }
    assert {k: v["growthbook:checkout__0"].group for k, v in stored.items()} == {
        u.custom_ids["device_id"]: r.group for u, r in zip(DEVICES, results, strict=True)
    }
    fp.shutdown()


@pytest.mark.parametrize("shape", SHAPES)
def test_the_fallback_units_stored_group_wins_and_moves_to_the_unit(shape: str) -> None:
    fp = Flagport("local", flags=SHAPES[shape], sticky={"store": "memory"})
    store = fp._sticky.store  # type: ignore[union-attr]
    # Whatever the hash says, the device's stored group is served once the user logs in.
    store.save([("device_id||d7", "checkout", Assignment("blue", {}, 0))])
    store.save([("device_id||d8", "checkout", Assignment("control", {}, 0))])
    for device, group in (("d7", "blue"), ("d8", "control")):
        user = User(user_id=f"user-{device}", country="US", custom_ids={"device_id": device})
        result = fp.get_experiment(user, "checkout")
        assert (result.group, result.reason) == (group, Reason.STICKY)
        assert fp.flush()
        assert store.load(f"user-{device}")["growthbook:checkout__0"].group == group
    fp.shutdown()


@pytest.mark.parametrize("shape", SHAPES)
def test_without_a_sticky_store_the_fallback_unit_is_not_bucketed(shape: str) -> None:
    """GrowthBook without a sticky-bucket service ignores ``fallbackAttribute``: a user
    without the unit is not in the experiment."""
    fp = Flagport("local", flags=SHAPES[shape])
    results = {
        (r.group, r.in_experiment) for r in (fp.get_experiment(u, "checkout") for u in DEVICES)
    }
    assert results == {(None, False)}
    fp.shutdown()


def test_sticky_false_turns_the_fallback_unit_off() -> None:
    fp = Flagport(
        "local", flags=flags(rules=[SPLIT_RULE], sticky=False), sticky={"store": "memory"}
    )
    assert {fp.get_experiment(u, "checkout").group for u in DEVICES} == {None}
    fp.shutdown()


def test_only_a_split_on_the_experiments_own_unit_falls_back() -> None:
    other = {**SPLIT_RULE, "unit": "company_id"}
    fp = Flagport("local", flags=flags(rules=[other]), sticky={"store": "memory"})
    assert {fp.get_experiment(u, "checkout").group for u in DEVICES} == {None}
    fp.shutdown()
