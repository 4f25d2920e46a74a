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
from growthbook_sticky_cases import CASES, check_answer, check_stored, seed

from flagport import Flagport, Reason, User
from flagport.cli import cli


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


@pytest.mark.parametrize("case", CASES, ids=[c[0] for c in CASES])
def test_published_sticky_bucket_cases_imported_and_served_by_the_local_provider(
    case: list[Any], tmp_path: Path
) -> None:
    _name, context, docs, feature_key, expected, _after = case
    (feature,) = context["features"].values()
    (rule,) = feature["rules"]
    path = imported(context["features"], tmp_path)
    written = yaml.safe_load(path.read_text(encoding="utf-8"))["experiments"][feature_key]
    assert written["sticky_rules"] == "growthbook"
    # Entries are named by GrowthBook's experiment key (the file's sticky_key).
    exp_key = rule.get("key") or feature_key
    assert written.get("sticky_key", feature_key) == exp_key
    fp = Flagport("local", path=str(path), sticky={"store": "memory"})
    store = fp._sticky.store  # type: ignore[union-attr]
    seed(store, docs)

    result = fp.get_experiment(as_user(context["attributes"]), feature_key)
    # An imported file serves a scalar variation as it is (the growthbook provider
    # wraps it as {"value": ...}).
    check_answer(result, expected, feature["defaultValue"], lambda value: value)
    if expected is None:
        assert result.reason is Reason.DEFAULT
    assert fp.flush()
    check_stored(store, case)
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
