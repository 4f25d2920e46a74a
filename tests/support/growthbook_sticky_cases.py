"""GrowthBook's published sticky-bucket cases, played against the local provider's store.

A case (``tests/growthbook/data/growthbook_sticky_bucket_cases.json``) gives the user's
attributes, the documents stored before, the expected answer and the documents after.
The local provider keeps GrowthBook's documents as the ``growthbook`` provider does
(one entry ``growthbook:<experiment key>__<bucket version>`` per assignment, in the
document's unit): :func:`seed` stores the case's documents so, and :func:`check_stored`
compares every stored document with the case's, assignment for assignment.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from flagport import Reason
from flagport.results import ExperimentResult
from flagport.sticky import Assignment, StickyStore
from flagport.sticky.growthbook import ENTRY_PREFIX, assignment_version, entry_name
from flagport.sticky.policy import unit_key

DATA = Path(__file__).parents[1] / "growthbook" / "data" / "growthbook_sticky_bucket_cases.json"
CASES: list[list[Any]] = json.loads(DATA.read_text(encoding="utf-8"))["stickyBucket"]


def doc_unit(doc: dict[str, Any]) -> str:
    """The store unit of a GrowthBook document (``id`` is the user's own unit)."""
    name = doc["attributeName"]
    return unit_key("user_id" if name == "id" else name, doc["attributeValue"])


def seed(store: StickyStore, docs: list[dict[str, Any]]) -> None:
    """Store the case's documents as GrowthBook's entries."""
    store.save(
        [
            (doc_unit(doc), entry_name(key), Assignment(group, {}, assignment_version(key)))
            for doc in docs
            for key, group in doc["assignments"].items()
        ]
    )


def stored_document(store: StickyStore, unit: str) -> dict[str, str]:
    """The assignments of the GrowthBook document stored in ``unit``."""
    return {
        name[len(ENTRY_PREFIX) :]: assignment.group
        for name, assignment in store.load(unit).items()
        if name.startswith(ENTRY_PREFIX)
    }


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


def check_stored(store: StickyStore, case: list[Any]) -> None:
    """Every document the store holds after the case is the case's."""
    for doc in case[5].values():
        assert stored_document(store, doc_unit(doc)) == doc["assignments"], doc_unit(doc)
