"""Generated GrowthBook payloads with sticky bucketing: the imported file, served by the
local provider with a sticky store, answers as GrowthBook's SDK with its own sticky
bucketing (the growthbook provider with a store of the same kind), while the payload
changes under the users' feet.

Each example is a payload from :func:`growthbook_payloads.payloads` (fallback
attributes, bucket versions, minimums, disabled sticky bucketing), in three versions
that both sides serve in turn with their store kept: as drawn; reshuffled (every
experiment's seed changed, so only the store keeps users in their group); and bumped
(every experiment's bucket version raised, some with the minimum raised too, which
blocks every unit assigned before). For each version, 300 users with odd attributes
(a tenth without a usable ``id``, so the fallback attribute, a device id, is hashed)
get the same group, enrolment and value from both.

The payloads keep to what the local provider's sticky assignments express
(docs/sticky.md): variations named by ``meta`` keys, no prerequisite on a feature with
an experiment (the local provider's prerequisites see an experiment's fresh assignment,
not its stored group). A feature may run several experiment rules, each sticky under
its own key, and a variation may be a passthrough one.
"""

from __future__ import annotations

import copy
import json
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from growthbook_payloads import payloads
from hypothesis import given
from hypothesis import strategies as st
from import_proof import odd_users, proof_settings, proof_timeout

from flagport import Flagport
from flagport.cli import cli
from flagport.user import as_user
from flagport_growthbook._convert import as_mapping

#: Users with a device id each (the fallback attribute); a tenth have no usable ``id``.
USERS = [
    as_user({**row, "custom": {**row["custom"], "device": f"device-{number}"}})
    for number, row in enumerate(odd_users(300, seed=19, gb_id=True))
]


def _expressible(rule: dict[str, Any]) -> None:
    # A sticky unit is an identity: the user's id, else his device. (GrowthBook's SDK
    # 4.0.0 does not store a group it found through the fallback attribute under a hash
    # attribute that already has a document, so with units shared between users, such
    # as a plan, it forgets groups flagport keeps: docs/sticky.md.)
    rule["hashAttribute"] = "id"
    if "fallbackAttribute" in rule:
        rule["fallbackAttribute"] = "device"
    count = len(rule["variations"])
    meta = rule.get("meta") or []
    rule["meta"] = [
        {"key": str(meta[i].get("key", i)) if i < len(meta) else str(i)}
        | ({"passthrough": True} if i < len(meta) and meta[i].get("passthrough") else {})
        for i in range(count)
    ]


def _has_experiment(feature: dict[str, Any] | None) -> bool:
    return feature is not None and any(
        rule.get("force") is None and rule.get("variations") is not None
        for rule in feature["rules"]
    )


@st.composite
def sticky_versions(draw: st.DrawFn) -> list[dict[str, Any]]:
    """Three versions of one payload: drawn, reshuffled, bumped."""
    payload = draw(payloads())
    features = payload["features"]
    # Features running one experiment (one key) state its versions alike.
    by_key: dict[str, dict[str, Any]] = {}
    for feature in features.values():
        kept = []
        for rule in feature["rules"]:
            parents = [
                parent
                for parent in rule.get("parentConditions") or ()
                if not _has_experiment(features.get(parent["id"]))
            ]
            if "parentConditions" in rule:
                rule["parentConditions"] = parents
            if rule.get("force") is None and rule.get("variations") is not None:
                _expressible(rule)
                fields = ("bucketVersion", "minBucketVersion", "disableStickyBucketing")
                first = by_key.setdefault(rule["key"], {f: rule[f] for f in fields if f in rule})
                for field in fields:
                    rule.pop(field, None)
                rule.update(first)
            kept.append(rule)
        feature["rules"] = kept
    reshuffled = copy.deepcopy(payload)
    bumped = copy.deepcopy(payload)
    blocking = {key: draw(st.booleans()) for key in sorted(by_key)}
    for before, after in ((reshuffled, None), (bumped, True)):
        for feature in before["features"].values():
            for rule in feature["rules"]:
                if rule.get("variations") is None or rule.get("force") is not None:
                    continue
                rule["seed"] = "reshuffled"
                if after:
                    version = int(rule.get("bucketVersion") or 0) + 1
                    rule["bucketVersion"] = version
                    if blocking[rule["key"]]:
                        rule["minBucketVersion"] = version
    return [payload, reshuffled, bumped]


def _import(payload: dict[str, Any], folder: Path) -> Path:
    source, out = folder / "payload.json", folder / "flags.yaml"
    source.write_text(json.dumps(payload), encoding="utf-8")
    result = CliRunner().invoke(
        cli, ["import", "growthbook", str(source), "-o", str(out)], catch_exceptions=False
    )
    assert result.exit_code == 0, result.output
    assert "left out" not in result.output, result.output
    return out


def _answer(result: Any) -> tuple[Any, ...]:
    value = result.value
    if not isinstance(value, Mapping) or result.provider == "local":
        value = as_mapping(value)
    return result.group, result.in_experiment, None if value is None else dict(value)


@pytest.mark.slow
@proof_timeout
@proof_settings
@given(sticky_versions())
def test_imported_sticky_experiments_answer_as_growthbooks_sticky_bucketing(
    versions: list[dict[str, Any]],
) -> None:
    with tempfile.TemporaryDirectory(prefix="flagport-sticky-proof-") as tmp:
        folder = Path(tmp)
        theirs = {"store": "sqlite", "path": str(folder / "growthbook.db")}
        ours = {"store": "sqlite", "path": str(folder / "local.db")}
        for number, payload in enumerate(versions):
            flags = _import(payload, folder)
            experiments = [
                key
                for key, feature in payload["features"].items()
                if any(r.get("variations") is not None for r in feature["rules"])
                and all(r.get("force") is None for r in feature["rules"] if "variations" in r)
            ]
            vendor = Flagport("growthbook", offline=True, bootstrap=payload, sticky=theirs)
            local = Flagport("local", path=str(flags), sticky=ours)
            try:
                for user in USERS:
                    # A request per user and client (a scope belongs to the innermost
                    # client): its assignments are read once and its own writes seen
                    # (features sharing an experiment key share them); saved before the
                    # next user, who may share a fallback unit (a company).
                    with vendor.scope(user):
                        wants = [_answer(vendor.get_experiment(user, n)) for n in experiments]
                    with local.scope(user):
                        gots = [_answer(local.get_experiment(user, n)) for n in experiments]
                    for name, want, got in zip(experiments, wants, gots, strict=True):
                        assert got == want, (
                            f"version {number}, {name}, user {user.model_dump()}: "
                            f"growthbook {want}, local {got}\n"
                            f"{flags.read_text(encoding='utf-8')}"
                        )
                    assert vendor.flush()
                    assert local.flush()
            finally:
                vendor.shutdown()
                local.shutdown()
