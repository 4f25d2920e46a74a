"""Hypothesis strategy: GrowthBook SDK payloads using every construct the importer takes.

:func:`payloads` draws ``{"features": ..., "savedGroups": ...}`` with features whose
default and rule values are scalars or objects, and rules of every kind
``flagport.importers.growthbook`` translates:

- force rules, plain or with ``coverage`` (0, fractions, over 1) or ``range``;
- experiment rules with two to four variations, ``weights`` or explicit ``ranges``,
  ``coverage``, ``namespace``, ``meta`` (keys, ``passthrough``), ``key``, and sticky
  bucketing's ``fallbackAttribute``, ``bucketVersion``, ``minBucketVersion`` (at most
  the version) and ``disableStickyBucketing``;
- on any rule: a ``condition`` (operators of every family, saved groups with
  ``$inGroup``/``$notInGroup``, ``$and``/``$or``/``$not``), ``seed``, ``hashVersion``
  1 or 2 (or missing), ``hashAttribute`` (the id, text and numeric attributes, one no
  user has), ``filters`` and ``parentConditions`` on earlier features (gating or not,
  and on a feature that does not exist).

The attributes match those of :func:`import_proof.odd_users` (with ``gb_id=True``).
"""

from __future__ import annotations

from typing import Any

from hypothesis import strategies as st

SAVED_GROUPS: dict[str, list[Any]] = {
    "vip": ["acme", "c1", 7, "Ünï"],
    "beta": ["u1", "u2", "u3", "u12", "0", "ünï-😀-0"],
    "empty": [],
}
CONDITIONS: tuple[dict[str, Any], ...] = (
    {"country": "US"},
    {"country": {"$in": ["US", "FR"]}},
    {"country": {"$nin": ["US", ""]}},
    {"plan": {"$regex": "^pro"}},
    {"plan": {"$exists": False}},
    {"plan": {"$ne": "free"}},
    {"age": {"$gte": 18}},
    {"age": {"$lt": "40"}},
    {"age": {"$type": "number"}},
    {"version": {"$vgt": "1.2.0"}},
    {"app_version": {"$vlte": "1.10.0"}},
    {"tags": {"$elemMatch": {"$eq": "pro"}}},
    {"tags": {"$size": 0}},
    {"tags": {"$all": ["a"]}},
    {"company": {"$inGroup": "vip"}},
    {"id": {"$notInGroup": "beta"}},
    {"id": {"$inGroup": "empty"}},
    {"email": {"$regex": "acme"}},
    {"$or": [{"country": "FR"}, {"age": {"$lt": 18}}]},
    {"$not": {"plan": "pro"}},
    {"$and": [{"country": {"$exists": True}}, {"company": {"$gt": 5}}]},
)
HASH_ATTRIBUTES = ("id", "company", "age", "plan", "email", "nobody")
values = st.one_of(
    st.integers(-3, 3),
    st.sampled_from(["a", "b", "", "ü", "on"]),
    st.booleans(),
    st.none(),
    st.just(2.5),
    st.dictionaries(st.sampled_from(["x", "y", "ü"]), st.integers(0, 3), max_size=2),
    st.lists(st.integers(0, 2), max_size=2),
)
fractions = st.integers(0, 1000).map(lambda n: n / 1000)


@st.composite
def bounds(draw: st.DrawFn) -> list[float]:
    low, high = sorted(draw(st.lists(fractions, min_size=2, max_size=2)))
    return [low, high]


@st.composite
def _hashing(draw: st.DrawFn, rule: dict[str, Any]) -> None:
    """Add the optional parts every rule may carry."""
    if draw(st.booleans()):
        rule["condition"] = draw(st.sampled_from(CONDITIONS))
    if draw(st.booleans()):
        rule["hashAttribute"] = draw(st.sampled_from(HASH_ATTRIBUTES))
    if (version := draw(st.sampled_from([None, 1, 2]))) is not None:
        rule["hashVersion"] = version
    if draw(st.booleans()):
        rule["seed"] = draw(st.sampled_from(["s1", "seed-ü", ""]))
    if draw(st.integers(0, 3)) == 0:
        rule["filters"] = [
            {
                "seed": draw(st.sampled_from(["ns1", "ns2"])),
                "ranges": draw(st.lists(bounds(), min_size=1, max_size=2)),
                "hashVersion": draw(st.sampled_from([1, 2])),
            }
        ]
        if (attribute := draw(st.sampled_from([None, "id", "company"]))) is not None:
            rule["filters"][0]["attribute"] = attribute


@st.composite
def _parents(draw: st.DrawFn, earlier: list[str]) -> list[dict[str, Any]]:
    parents = []
    for _ in range(draw(st.integers(1, 2))):
        parents.append(
            {
                "id": draw(st.sampled_from([*earlier, "no_such_feature"])),
                "condition": draw(
                    st.sampled_from(
                        [
                            {"value": True},
                            {"value": {"$exists": True}},
                            {"value": {"$in": ["a", 1]}},
                            {"value": {"$exists": False}},
                        ]
                    )
                ),
                "gate": draw(st.booleans()),
            }
        )
    return parents


@st.composite
def force_rule(draw: st.DrawFn, number: int) -> dict[str, Any]:
    rule: dict[str, Any] = {"id": f"fr_{number}", "force": draw(values)}
    draw(_hashing(rule))
    shape = draw(st.integers(0, 3))
    if shape == 1:
        rule["coverage"] = draw(st.one_of(fractions, st.sampled_from([0, 1, 1.2])))
    elif shape == 2:
        rule["range"] = draw(bounds())
    return rule


@st.composite
def experiment_rule(draw: st.DrawFn, number: int) -> dict[str, Any]:
    count = draw(st.integers(2, 4))
    rule: dict[str, Any] = {
        "id": f"exp_{number}",
        "key": draw(st.sampled_from([f"exp-{number}", "shared-exp"])),
        "variations": [draw(values) for _ in range(count)],
    }
    draw(_hashing(rule))
    shape = draw(st.integers(0, 2))
    if shape == 1:
        rule["weights"] = draw(st.lists(fractions, min_size=count, max_size=count))
    elif shape == 2:
        rule["ranges"] = [draw(bounds()) for _ in range(count)]
    if draw(st.booleans()):
        rule["coverage"] = draw(fractions)
    if draw(st.integers(0, 3)) == 0:
        rule["namespace"] = ["checkout", *draw(bounds())]
    if draw(st.integers(0, 2)):
        rule["meta"] = [
            {"key": draw(st.sampled_from([str(i), f"v{i}", "control"][: 2 + (i == 0)]))}
            | ({"passthrough": True} if draw(st.integers(0, 5)) == 0 else {})
            for i in range(count)
        ]
    draw(_sticky_bucketing(rule))
    return rule


@st.composite
def _sticky_bucketing(draw: st.DrawFn, rule: dict[str, Any]) -> None:
    """Add sticky bucketing's fields (used by GrowthBook with a sticky-bucket service)."""
    if draw(st.booleans()):
        rule["fallbackAttribute"] = draw(st.sampled_from(HASH_ATTRIBUTES))
    version = draw(st.integers(0, 3))
    if version or draw(st.booleans()):
        rule["bucketVersion"] = version
    if draw(st.booleans()):
        rule["minBucketVersion"] = draw(st.integers(0, version))
    if draw(st.integers(0, 3)) == 0:
        rule["disableStickyBucketing"] = draw(st.booleans())


@st.composite
def payloads(draw: st.DrawFn) -> dict[str, Any]:
    """A GrowthBook SDK payload of two to five features (see the module docstring)."""
    features: dict[str, Any] = {}
    for number in range(draw(st.integers(2, 5))):
        rules = []
        for index in range(draw(st.integers(0, 4))):
            rule_number = number * 10 + index
            kind = st.one_of(force_rule(rule_number), experiment_rule(rule_number))
            rule = draw(kind)
            if features and draw(st.integers(0, 3)) == 0:
                rule["parentConditions"] = draw(_parents(list(features)))
            rules.append(rule)
        features[f"feature_{number}"] = {"defaultValue": draw(values), "rules": rules}
    return {"features": features, "savedGroups": SAVED_GROUPS}
