"""Where a stored group counts under GrowthBook's rules, for an experiment whose split
is one of its rules: checked against GrowthBook's SDK (the growthbook provider with its
own sticky bucketing) on the file ``flagport import growthbook`` writes.

GrowthBook looks a stored bucket up only once the evaluation reaches the experiment
rule and the rule applies to the unit; rules before it serve as they say, a blocked
unit goes on to the rules after it, and only the experiment rule's assignments are
stored.
"""

from __future__ import annotations

from typing import Any

import pytest

from flagport import Flagport, Reason, User
from flagport.importers.growthbook import import_features
from flagport.sticky import Assignment
from flagport_growthbook._sticky import StoreStickyBucketService

RULE = {
    "id": "split",
    "key": "copy-exp",
    "condition": {"country": "US"},
    "hashAttribute": "id",
    "hashVersion": 2,
    "variations": ["control", "short"],
    "meta": [{"key": "control"}, {"key": "short"}],
    "weights": [1.0, 0.0],  # a fresh assignment is always control
}
BEFORE = {"id": "staff", "condition": {"staff": True}, "force": "staff"}
AFTER = {"id": "after", "force": "after"}


def features(**rule: Any) -> dict[str, Any]:
    return {"copy": {"defaultValue": "default", "rules": [BEFORE, {**RULE, **rule}, AFTER]}}


def answers(payload: dict[str, Any], user: User, stored: tuple[str, int]) -> list[tuple[Any, ...]]:
    """(group, value, reason) from GrowthBook's SDK and from the imported file, each with
    ``stored`` = (group, bucket version) in its store for the user."""
    group, version = stored
    vendor = Flagport(
        "growthbook", offline=True, bootstrap={"features": payload}, sticky={"store": "memory"}
    )
    service = StoreStickyBucketService(vendor._sticky)  # type: ignore[arg-type]
    service.save_assignments(
        {
            "attributeName": "id",
            "attributeValue": user.user_id,
            "assignments": {f"copy-exp__{version}": group},
        }
    )
    imported = import_features(payload)
    assert not imported.left_out
    local = Flagport("local", flags=imported.flags, sticky={"store": "memory"})
    local._sticky.store.save([(str(user.user_id), "copy-exp", Assignment(group, {}, version))])  # type: ignore[union-attr]
    found = []
    for fp in (vendor, local):
        assert fp.flush()
        result = fp.get_experiment(user, "copy")
        value = result.value["value"] if result.provider == "growthbook" else result.value
        found.append((result.group, value, result.reason))
        assert fp.flush()
        fp.shutdown()
    return found


def test_a_stored_group_wins_once_the_unit_reaches_the_split() -> None:
    vendor, local = answers(features(), User(user_id="u1", country="US"), ("short", 0))
    assert vendor == local == ("short", "short", Reason.STICKY)


@pytest.mark.parametrize(
    ("user", "served"),
    [
        (User(user_id="u1", country="US", custom={"staff": True}), "staff"),  # a rule before
        (User(user_id="u1", country="FR"), "after"),  # the split rule does not apply
    ],
    ids=["rule before the split", "condition of the split fails"],
)
def test_a_stored_group_does_not_count_where_growthbook_never_looks_it_up(
    user: User, served: str
) -> None:
    vendor, local = answers(features(), user, ("short", 0))
    assert vendor[:2] == local[:2] == (None, served)


def test_a_blocked_unit_goes_on_to_the_rules_after_the_split() -> None:
    payload = features(bucketVersion=1, minBucketVersion=1)
    vendor, local = answers(payload, User(user_id="u1", country="US"), ("short", 0))
    assert vendor[:2] == local[:2] == (None, "after")
