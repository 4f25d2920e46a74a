"""GrowthBook's published sticky-bucket cases, imported with ``flagport import growthbook``
and served by the local provider with a sticky store.

Each case's payload goes through the CLI as a user would run it; the written file
(``sticky_rules: growthbook``, the hash attribute as the experiment's unit,
``fallback_unit``, ``bucket_version``, ``min_bucket_version``, ``sticky: false``) is
served with a memory store seeded with the case's documents, and the answer and what is
stored after must be GrowthBook's. The local provider keeps one assignment per
experiment and unit (the latest, with the lowest version the unit was ever assigned at),
where GrowthBook keeps one per bucket version (docs/sticky.md): the stored entry is
compared with the case's entry at the experiment's bucket version, or with the entry
seeded when the case writes none.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml
from click.testing import CliRunner

from flagport import Flagport, Reason, User
from flagport.cli import cli
from flagport.sticky import Assignment
from flagport.sticky.store import unit_key

DATA = Path(__file__).parents[2] / "growthbook" / "data" / "growthbook_sticky_bucket_cases.json"
CASES: list[list[Any]] = json.loads(DATA.read_text(encoding="utf-8"))["stickyBucket"]


def imported(features: dict[str, Any], tmp_path: Path) -> Path:
    """The flags file ``flagport import growthbook`` writes for ``features``."""
    source, out = tmp_path / "payload.json", tmp_path / "flags.yaml"
    source.write_text(json.dumps({"features": features}), encoding="utf-8")
    args = ["import", "growthbook", str(source), "-o", str(out)]
    result = CliRunner().invoke(cli, args, catch_exceptions=False)
    assert result.exit_code == 0, result.output
    assert "left out" not in result.output, result.output
    return out


def as_user(attributes: dict[str, Any]) -> User:
    """The case's attributes as a user whose GrowthBook attributes they are."""
    return User(
        user_id=attributes.get("id"), custom={k: v for k, v in attributes.items() if k != "id"}
    )


def doc_unit(doc: dict[str, Any]) -> str:
    name = doc["attributeName"]
    return unit_key("user_id" if name == "id" else name, doc["attributeValue"])


@pytest.mark.parametrize("case", CASES, ids=[c[0] for c in CASES])
def test_published_sticky_bucket_cases_imported_and_served_by_the_local_provider(
    case: list[Any], tmp_path: Path
) -> None:
    _name, context, docs, feature_key, expected, docs_after = case
    (feature,) = context["features"].values()
    (rule,) = feature["rules"]
    path = imported(context["features"], tmp_path)
    written = yaml.safe_load(path.read_text(encoding="utf-8"))["experiments"][feature_key]
    assert written["sticky_rules"] == "growthbook"
    version = rule.get("bucketVersion", 0)
    exp_key = rule.get("key") or feature_key
    fp = Flagport("local", path=str(path), sticky={"store": "memory"})
    store = fp._sticky.store  # type: ignore[union-attr]
    seeded: dict[str, Assignment] = {}
    for doc in docs:
        ((key, group),) = doc["assignments"].items()
        seeded[doc_unit(doc)] = Assignment(group, {}, int(key.rpartition("__")[2]))
    # Entries are named by GrowthBook's experiment key (the file's sticky_key).
    assert written.get("sticky_key", feature_key) == exp_key
    store.save([(unit, exp_key, a) for unit, a in seeded.items()])

    result = fp.get_experiment(as_user(context["attributes"]), feature_key)
    if expected is None:  # blocked: not enrolled, the feature's default
        assert (result.group, result.in_experiment, result.reason) == (None, False, Reason.DEFAULT)
        assert result.value == feature["defaultValue"]
    else:
        # An imported file serves a scalar variation as it is (the growthbook provider
        # wraps it as {"value": ...}).
        assert (result.group, result.value) == (expected["key"], expected["value"])
        assert result.in_experiment is expected["inExperiment"]
        assert result.reason is (Reason.STICKY if expected["stickyBucketUsed"] else Reason.SPLIT)
    assert fp.flush()

    sticky = not rule.get("disableStickyBucketing", False)
    for doc in docs_after.values():
        unit = doc_unit(doc)
        current = doc["assignments"].get(f"{exp_key}__{version}")
        want = (current, version) if current is not None and sticky else None
        if want is None:
            want = (seeded[unit].group, seeded[unit].version)
        stored = store.load(unit)[exp_key]
        assert (stored.group, stored.version) == want, unit
    fp.shutdown()


def test_without_a_store_the_imported_file_answers_as_growthbook_without_one(
    tmp_path: Path,
) -> None:
    """GrowthBook uses ``fallbackAttribute`` only with a sticky-bucket service: without a
    store, a user with only the fallback attribute is not in the experiment, on both."""
    case = next(c for c in CASES if c[0] == "use fallbackAttribute when missing hashAttribute")
    features, attributes = case[1]["features"], case[1]["attributes"]
    user = as_user(attributes)
    path = imported(features, tmp_path)
    with Flagport("growthbook", offline=True, bootstrap={"features": features}) as vendor:
        theirs = vendor.get_experiment(user, "feature")
    with Flagport("local", path=str(path)) as local:
        ours = local.get_experiment(user, "feature")
    assert (ours.group, ours.in_experiment) == (theirs.group, theirs.in_experiment) == (None, False)
    with Flagport("local", path=str(path), sticky={"store": "memory"}) as local:
        assert local.get_experiment(user, "feature").group == case[4]["key"]
