"""GrowthBook features, translated by ``flagport.importers.growthbook``, evaluate the same.

Hypothesis writes random features using every rule construct GrowthBook's SDK knows
(force rules with coverage or ranges, experiment rules with weights, coverage, explicit
ranges, namespaces, filters, seeds, hash versions and hash attributes, passthrough
variations, prerequisites gating or not), the importer translates them, and 2,000 users
with odd attributes (numbers, zero, booleans, empty strings, non-ASCII, missing) are
evaluated by GrowthBook's own SDK, given the attributes the growthbook provider sends
(custom ids, ``id`` = the user id, then the attributes), and by the local provider:
value, variation key and whether the user is in an experiment must agree for every
user and feature.
"""

from __future__ import annotations

import json
import logging
import os
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from flagport import User
from flagport.importers.growthbook import import_features
from flagport.providers.local import LocalProvider
from flagport.results import thaw

growthbook = pytest.importorskip("growthbook")
from flagport_growthbook._convert import to_user_context  # noqa: E402

ODD_IDS: list[Any] = ["", 0, 1, -7, 2.0, 1.5, 1e21, True, False, "ünï-😀", "0", " ", None]


def _users(count: int) -> list[User]:
    users = []
    for i in range(count):
        custom: dict[str, Any] = {"age": (i * 7) % 90}
        ident = ODD_IDS[i % len(ODD_IDS)] if i % 5 == 0 else f"u{i}"
        if ident is not None:
            custom["id"] = ident
        if i % 3:
            custom["company"] = [i % 11, f"c{i % 13}", 0, "", 3.25][i % 5]
        country = ["US", "CA", "FR", "", None][i % 5]
        if country is not None:
            custom["country"] = country
        ids = {"company": f"k{i % 17}"} if i % 7 == 0 else {}
        users.append(User(user_id=None if i % 11 == 0 else f"u{i}", custom=custom, custom_ids=ids))
    return users


USERS = _users(2_000)
#: Raise for a long run: FLAGPORT_DIFF_EXAMPLES=500 uv run pytest tests/core/local/test_rules_vs_*
EXAMPLES = int(os.environ.get("FLAGPORT_DIFF_EXAMPLES", "12"))

values = st.one_of(
    st.integers(-3, 3),
    st.sampled_from(["a", "b", "", "ü"]),
    st.booleans(),
    st.none(),
    st.dictionaries(st.sampled_from(["x", "y"]), st.integers(0, 3), max_size=2),
)
conditions = st.sampled_from(
    [
        None,
        {"country": "US"},
        {"country": {"$in": ["US", "CA"]}},
        {"age": {"$gt": 40}},
        {"$or": [{"country": "FR"}, {"age": {"$lt": 10}}]},
    ]
)
fractions = st.integers(0, 10_000).map(lambda n: n / 10_000)
hash_attributes = st.sampled_from([None, "id", "company", "country"])
hash_versions = st.sampled_from([None, 1, 2])
seeds = st.sampled_from([None, "s1", "seed-ü"])


@st.composite
def ranges(draw: st.DrawFn) -> list[float]:
    low = draw(fractions)
    return [low, draw(st.integers(int(low * 10_000), 10_000)) / 10_000]


@st.composite
def filters(draw: st.DrawFn) -> list[dict[str, Any]]:
    return [
        {
            "seed": draw(st.sampled_from(["ns1", "ns2"])),
            "ranges": draw(st.lists(ranges(), min_size=1, max_size=2)),
            "hashVersion": draw(st.sampled_from([1, 2])),
            **({"attribute": a} if (a := draw(hash_attributes)) else {}),
        }
    ]


@st.composite
def common(draw: st.DrawFn, earlier: list[str]) -> dict[str, Any]:
    rule: dict[str, Any] = {}
    for key, strategy in (
        ("condition", conditions),
        ("hashAttribute", hash_attributes),
        ("hashVersion", hash_versions),
        ("seed", seeds),
    ):
        if (found := draw(strategy)) is not None:
            rule[key] = found
    if draw(st.booleans()) and draw(st.integers(0, 3)) == 0:
        rule["filters"] = draw(filters())
    if earlier and draw(st.integers(0, 2)) == 0:
        parent = draw(st.sampled_from(earlier))
        condition = draw(
            st.sampled_from([{"value": True}, {"value": {"$exists": True}}, {"value": "a"}])
        )
        rule["parentConditions"] = [
            {"id": parent, "condition": condition, "gate": draw(st.booleans())}
        ]
    return rule


@st.composite
def force_rule(draw: st.DrawFn, earlier: list[str]) -> dict[str, Any]:
    rule = {**draw(common(earlier)), "force": draw(values)}
    choice = draw(st.integers(0, 3))
    if choice == 1:
        rule["coverage"] = draw(st.one_of(fractions, st.sampled_from([0, 1, 1.2])))
    elif choice == 2:
        rule["range"] = draw(ranges())
    return rule


@st.composite
def experiment_rule(draw: st.DrawFn, earlier: list[str]) -> dict[str, Any]:
    rule = draw(common(earlier))
    count = draw(st.integers(1, 4))
    rule["variations"] = [draw(values) for _ in range(count)]
    rule["key"] = draw(st.sampled_from(["exp", "other"]))
    shape = draw(st.integers(0, 3))
    if shape == 1:
        rule["weights"] = draw(st.lists(fractions, min_size=count, max_size=count))
    elif shape == 2:
        rule["ranges"] = [draw(ranges()) for _ in range(count)]
    if draw(st.booleans()):
        rule["coverage"] = draw(fractions)
    if draw(st.integers(0, 3)) == 0:
        rule["namespace"] = ["ns", *sorted(draw(st.lists(fractions, min_size=2, max_size=2)))]
    meta = []
    for index in range(count):
        item: dict[str, Any] = {"key": draw(st.sampled_from([str(index), f"v{index}"]))}
        if draw(st.integers(0, 4)) == 0:
            item["passthrough"] = True
        meta.append(item)
    if draw(st.booleans()):
        rule["meta"] = meta
    return rule


@st.composite
def features(draw: st.DrawFn) -> dict[str, Any]:
    found: dict[str, Any] = {}
    for number in range(draw(st.integers(1, 4))):
        earlier = list(found)
        rules = draw(st.lists(st.one_of(force_rule(earlier), experiment_rule(earlier)), max_size=4))
        found[f"f{number}"] = {"defaultValue": draw(values), "rules": rules}
    return found


def _same(value: Any) -> str:
    return json.dumps(value, sort_keys=True)


def _theirs(gb: Any, key: str) -> tuple[str, str | None, bool]:
    result = gb.eval_feature(key)
    experiment = result.experimentResult if result.source == "experiment" else None
    if experiment is None:
        return _same(result.value), None, False
    return _same(result.value), experiment.key, bool(experiment.inExperiment)


@settings(
    max_examples=EXAMPLES,
    derandomize=True,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(features())
def test_imported_features_evaluate_as_growthbook(payload: dict[str, Any]) -> None:
    logging.getLogger("growthbook").setLevel(logging.CRITICAL)
    imported = import_features(payload)
    assert imported.left_out == []
    provider = LocalProvider(LocalProvider.Options(flags=imported.flags, watch=False))
    provider.start()
    gb = growthbook.GrowthBook(features=payload)
    mismatch = None
    try:
        for user in USERS:
            # What the growthbook provider sends: custom ids, id = user_id, attributes.
            gb.set_attributes(dict(to_user_context(user).attributes))
            for key in payload:
                if key in imported.flags.get("experiments", {}):
                    ours = provider.evaluate_experiment(user, key)
                    mine = (_same(thaw(ours.value)), ours.group, ours.in_experiment)
                else:  # a gate or a config: the value alone (no experiment ran)
                    kind = "gate" if key in imported.flags.get("gates", {}) else "config"
                    value = getattr(provider, f"evaluate_{kind}")(user, key).value
                    mine = (_same(thaw(value)), None, False)
                if mine != (theirs := _theirs(gb, key)):
                    mismatch = (key, user.attributes, mine, theirs)
                    break
            if mismatch:
                break  # one is enough, and shrinking stays quick
    finally:
        gb.destroy()
    assert mismatch is None
