"""GrowthBook's published sticky-bucket cases, played against the local provider's store.

A case (``tests/growthbook/data/growthbook_sticky_bucket_cases.json``) gives the user's
attributes, the documents stored before, the expected answer and the documents after.
The local provider keeps one assignment per experiment and unit (the latest, with the
lowest version the unit was ever assigned at, which is what blocking needs) where
GrowthBook keeps one per bucket version: :func:`check_stored` compares the stored
entry with the case's entry at the experiment's bucket version (or with the entry
seeded, when the case writes none).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from flagport import Reason
from flagport.results import ExperimentResult
from flagport.sticky import Assignment, StickyStore
from flagport.sticky.policy import unit_key

DATA = Path(__file__).parents[1] / "growthbook" / "data" / "growthbook_sticky_bucket_cases.json"
CASES: list[list[Any]] = json.loads(DATA.read_text(encoding="utf-8"))["stickyBucket"]


def doc_unit(doc: dict[str, Any]) -> str:
    """The store unit of a GrowthBook document (``id`` is the user's own unit)."""
    name = doc["attributeName"]
    return unit_key("user_id" if name == "id" else name, doc["attributeValue"])


def seed(store: StickyStore, docs: list[dict[str, Any]], entry: str) -> dict[str, Assignment]:
    """Store the case's documents as the local provider's entries named ``entry``."""
    seeded: dict[str, Assignment] = {}
    for doc in docs:
        ((key, group),) = doc["assignments"].items()
        seeded[doc_unit(doc)] = Assignment(group, {}, int(key.rpartition("__")[2]))
    store.save([(unit, entry, a) for unit, a in seeded.items()])
    return seeded


def check_answer(
    result: ExperimentResult,
    expected: dict[str, Any] | None,
    default: Any,
    value_of: Callable[[Any], Any],
) -> None:
    """``result`` is the case's answer; ``value_of`` maps a variation to the value served."""
    if expected is None:  # blocked: not enrolled, the experiment's default
        assert (result.group, result.in_experiment) == (None, False)
        assert result.value == value_of(default)
        return
    assert (result.group, result.value) == (expected["key"], value_of(expected["value"]))
    assert result.in_experiment is expected["inExperiment"]
    assert result.reason is (Reason.STICKY if expected["stickyBucketUsed"] else Reason.SPLIT)


def check_stored(
    store: StickyStore,
    case: list[Any],
    seeded: dict[str, Assignment],
    entry: str,
    *,
    sticky: bool,
) -> None:
    """What the store holds after the case, under ``entry``, is the case's."""
    docs_after = case[5]
    (feature,) = case[1]["features"].values()
    (rule,) = feature["rules"]
    version = rule.get("bucketVersion", 0)
    exp_key = rule.get("key") or case[3]
    for doc in docs_after.values():
        unit = doc_unit(doc)
        current = doc["assignments"].get(f"{exp_key}__{version}")
        if current is not None and sticky:
            want = (current, version)
        else:
            want = (seeded[unit].group, seeded[unit].version)
        stored = store.load(unit)[entry]
        assert (stored.group, stored.version) == want, unit
