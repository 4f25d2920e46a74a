"""GrowthBook features payload -> flags file.

Every feature becomes a flag of the kind the ``growthbook`` provider gives it, so an
application (and a migration from that provider) asks both alike: a feature with an
experiment rule is an *experiment*, reporting what GrowthBook's ``eval_feature`` does
(the value, the variation key as ``group``, whether the unit is in the experiment); one
whose values are all booleans is a *gate*; any other a *config*. Rules translate one
to one, in order, and keep GrowthBook's meaning (its Python SDK 4.x,
``growthbook.core._eval_feature``):

- every rule falls through (``outside: next``) when the unit misses its rollout,
  filters, namespace or experiment coverage, or lacks the hash attribute;
- a force rule with ``coverage`` or ``range`` is a ``range`` rollout (``[0, coverage)``:
  GrowthBook also requires a hash attribute at full coverage, which ``range`` does and
  ``pass_percentage: 100`` does not);
- an experiment rule is a ``split`` whose variants carry GrowthBook's bucket ranges
  (``ranges``, or computed from ``weights`` and ``coverage`` as ``getBucketRanges``
  does), its seed (``seed``, else ``key``, else the feature key) and hash version
  (missing means 1, as in the SDK);
- ``filters`` and ``namespace`` are ``filters`` (a namespace hashes ``"__" + id`` with
  version 1);
- ``parentConditions`` are ``prerequisites``; a gating one (``gate: true``) makes the
  feature serve ``null``, which is written as an earlier rule serving ``null`` when the
  prerequisite fails;
- variation ``meta`` gives group names (``key``, else the index) and ``passthrough``;
- a rule keeps its ``id`` (``r<index>`` when it has none or repeats an earlier one);
- every experiment rule is a sticky split, bucketed as GrowthBook's sticky bucketing
  does when the client has a sticky store (``sticky_rules: growthbook``). The first
  states it with the experiment's fields: its ``key`` is the experiment's
  ``sticky_key`` (features sharing an experiment share stored groups), its hash
  attribute the experiment's ``unit``, ``fallbackAttribute`` its ``fallback_unit``,
  ``bucketVersion``/``minBucketVersion`` its ``bucket_version``/``min_bucket_version``,
  ``disableStickyBucketing`` ``sticky: false``; a later one with its split's ``sticky``
  (``key``, ``bucket_version``, ``min_bucket_version``, ``fallback_unit``, or
  ``false``). A force rule's ``fallbackAttribute`` (always hashed by the SDK) is not
  expressible.

A user is seen as the growthbook provider sends it to the SDK
(:mod:`flagport.providers.local.growthbook_view`): every condition is wrapped in
``$growthbook`` and every hash attribute is the unit ``$growthbook.<attribute>``, so
``id`` is a custom ``id`` attribute, else the user id, else a custom id ``id``, and a
custom id is an attribute, exactly as for the SDK behind the provider.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

from flagport.importers import Imported
from flagport.providers.local.bucketing import growthbook_ranges
from flagport.providers.local.conditions import ConditionError, compile_condition
from flagport.providers.local.growthbook_view import GROWTHBOOK_UNIT

__all__ = ["import_features"]

_HASHES = {1: "growthbook_v1", 2: "growthbook"}


def import_features(
    features: Mapping[str, Any], saved_groups: Mapping[str, Sequence[Any]] | None = None
) -> Imported:
    """Translate GrowthBook's ``features`` (and ``savedGroups``) into a flags file.

    :returns: the flags mapping (``segments``, ``gates``, ``experiments``, ``configs``) and
        what was left out.
    """
    out = Imported()
    sections: dict[str, dict[str, Any]] = {"gates": {}, "experiments": {}, "configs": {}}
    for key, feature in features.items():
        if not isinstance(feature, Mapping):
            out.leave_out(key, "", "a feature is an object; this one was skipped")
            continue
        section = _section(feature)
        flag = _feature(key, feature, features, out)
        sections[section][key] = _as_gate(flag) if section == "gates" else flag
    out.flags = {"hash": "growthbook", **{name: found for name, found in sections.items() if found}}
    if saved_groups:
        out.flags["segments"] = {name: list(values) for name, values in saved_groups.items()}
    return out


def _section(feature: Mapping[str, Any]) -> str:
    """The kind the growthbook provider gives a feature, so an application asks both alike.

    A feature with an experiment rule is an experiment; one whose values are all
    booleans (none null) is a gate; any other a config.
    """
    rules = [r for r in feature.get("rules") or () if isinstance(r, Mapping)]
    if any(r.get("force") is None and r.get("variations") is not None for r in rules):
        return "experiments"
    values = [feature.get("defaultValue"), *(r.get("force") for r in rules)]
    gating = any(
        isinstance(p, Mapping) and p.get("gate")
        for r in rules
        for p in r.get("parentConditions") or ()
    )
    if not gating and all(isinstance(v, bool) for v in values):
        return "gates"
    return "configs"


def _as_gate(flag: dict[str, Any]) -> dict[str, Any]:
    # A gate has no default: a true default is a last rule for everyone.
    default = flag.pop("default")
    if default is True:
        flag["rules"].append({"id": "default", "value": True})
    return flag


def _feature(key: str, feature: Mapping[str, Any], known: Mapping[str, Any], out: Imported) -> Any:
    rules: list[dict[str, Any]] = []
    taken: set[str] = set()
    flag: dict[str, Any] = {"default": feature.get("defaultValue"), "rules": rules}
    for index, rule in enumerate(feature.get("rules") or ()):
        where = f"rules[{index}]"
        if not isinstance(rule, Mapping):
            out.leave_out(key, where, "a rule is an object; this one was skipped")
            continue
        written = _rule(key, rule, _rule_id(rule, index, taken), where, known, out)
        if written and "split" in written[-1]:
            if "sticky_rules" not in flag:
                _sticky(key, flag, written[-1], rule, where, out)
            else:
                _later_sticky(key, written[-1], rule, where, out)
        rules.extend(written)
    return flag


def _sticky(
    key: str,
    flag: dict[str, Any],
    split: dict[str, Any],
    rule: Mapping[str, Any],
    where: str,
    out: Imported,
) -> None:
    """Make ``split`` (the feature's first experiment rule) the experiment's sticky split,
    bucketed as GrowthBook's sticky bucketing does: the rule's hash attribute is the
    experiment's unit (the split inherits it, with ``fallback_unit``), its bucket
    versions the experiment's, ``disableStickyBucketing`` is ``sticky: false``."""
    flag["unit"] = split.pop("unit")
    flag["sticky_rules"] = "growthbook"
    if str(rule.get("key") or key) != key:
        flag["sticky_key"] = str(rule["key"])
    if rule.get("fallbackAttribute"):
        flag["fallback_unit"] = _unit(rule["fallbackAttribute"])
    flag.update(_versions(key, rule, where, out))
    if rule.get("disableStickyBucketing"):
        flag["sticky"] = False


def _later_sticky(
    key: str, split: dict[str, Any], rule: Mapping[str, Any], where: str, out: Imported
) -> None:
    """Make ``split`` (a later experiment rule of the feature) sticky under its own key,
    bucket versions and ``fallbackAttribute``, as GrowthBook buckets every experiment
    rule (``disableStickyBucketing``: ``sticky: false``)."""
    if rule.get("disableStickyBucketing"):
        split["split"]["sticky"] = False
        return
    sticky: dict[str, Any] = {"key": str(rule.get("key") or key)}
    sticky.update(_versions(key, rule, where, out))
    if rule.get("fallbackAttribute"):
        sticky["fallback_unit"] = _unit(rule["fallbackAttribute"])
    split["split"]["sticky"] = sticky


def _versions(key: str, rule: Mapping[str, Any], where: str, out: Imported) -> dict[str, int]:
    """The rule's ``bucketVersion``/``minBucketVersion`` as ``bucket_version`` and
    ``min_bucket_version`` (0 omitted)."""
    versions = {}
    for field, name in (
        ("bucketVersion", "bucket_version"),
        ("minBucketVersion", "min_bucket_version"),
    ):
        found = rule.get(field)
        if found is None or found == 0:
            continue
        if not isinstance(found, int) or isinstance(found, bool) or found < 0:
            out.leave_out(key, f"{where}.{field}", "not a whole number >= 0; version 0 is used")
            continue
        versions[name] = found
    if versions.get("min_bucket_version", 0) > versions.get("bucket_version", 0):
        out.leave_out(
            key,
            f"{where}.minBucketVersion",
            "above bucketVersion (GrowthBook then blocks every unit it assigns); not "
            "expressible, no minimum is used",
        )
        versions.pop("min_bucket_version")
    return versions


def _rule_id(rule: Mapping[str, Any], index: int, taken: set[str]) -> str:
    """The vendor's rule id, else (none, or one already used) ``r<index>``, made unique
    together with the ids of the gating rules written before it."""
    found = rule.get("id")
    gates = range(len(rule.get("parentConditions") or ()))
    rule_id = f"r{index}"
    if isinstance(found, str) and found and _free(found, gates, taken):
        rule_id = found
    while not _free(rule_id, gates, taken):
        rule_id += "_"
    taken.update((rule_id, *(f"{rule_id}_gate{n}" for n in gates)))
    return rule_id


def _free(rule_id: str, gates: range, taken: set[str]) -> bool:
    return rule_id not in taken and not any(f"{rule_id}_gate{n}" in taken for n in gates)


def _unit(attribute: Any) -> str:
    """GrowthBook's hash attribute as a unit: the attribute the provider sends."""
    return GROWTHBOOK_UNIT + str(attribute or "id")


def _rule(
    key: str,
    rule: Mapping[str, Any],
    rule_id: str,
    where: str,
    known: Mapping[str, Any],
    out: Imported,
) -> list[dict[str, Any]]:
    for unsupported in ("fallbackAttribute", "contextualVariations", "contextualBanditRef"):
        if rule.get(unsupported) is not None and (
            unsupported != "fallbackAttribute" or rule.get("force") is not None
        ):
            out.leave_out(key, f"{where}.{unsupported}", "not expressible; the rule is skipped")
            return []
    prerequisites, gating, applies = _prerequisites(rule.get("parentConditions") or (), known)
    out_rules: list[dict[str, Any]] = [
        {"id": f"{rule_id}_gate{number}", "prerequisites": gate, "value": None}
        for number, gate in enumerate(gating)
    ]
    if not applies:
        return out_rules  # a prerequisite on an unknown feature that can never hold
    base: dict[str, Any] = {"id": rule_id, "outside": "next"}
    if rule.get("condition") is not None:
        base["when"] = {"$growthbook": dict(rule["condition"])}
    filters = _filters(rule.get("filters"))
    if filters is None:
        return out_rules  # a filter no unit can pass (unknown hash version)
    unit = _unit(rule.get("hashAttribute"))
    if rule.get("force") is not None:  # GrowthBook's test: a null force is no force rule
        rollout = _rollout(key, rule)
        if rollout is None:
            return out_rules
        served = {**base, "value": rule["force"], **rollout}
        if rollout:
            served["unit"] = unit
        if filters:
            served["filters"] = filters
            served.setdefault("unit", unit)
    else:
        split = _split(key, rule, unit, filters)
        if split is None:
            return out_rules
        served = {**base, **split}
    if prerequisites:
        served["prerequisites"] = prerequisites
    return [*out_rules, served]


def _prerequisites(
    parents: Sequence[Any], known: Mapping[str, Any]
) -> tuple[list[dict[str, Any]], list[list[dict[str, Any]]], bool]:
    """(prerequisites, one list per gating rule to put first, whether the rule can apply)."""
    kept: list[dict[str, Any]] = []
    gating: list[list[dict[str, Any]]] = []
    for parent in parents:
        if not isinstance(parent, Mapping) or parent.get("id") is None:
            continue
        condition = parent.get("condition")
        if condition is None:
            continue
        flag = str(parent["id"])
        if flag not in known:
            # GrowthBook evaluates an unknown feature as null: decide it now.
            if _holds({"value": None}, condition):
                continue
            if parent.get("gate"):
                gating.append(list(kept))
            return kept, gating, bool(parent.get("gate"))
        if parent.get("gate"):
            gating.append([*kept, {"flag": flag, "when": {"$not": dict(condition)}}])
        kept.append({"flag": flag, "when": dict(condition)})
    return kept, gating, True


def _holds(attributes: Mapping[str, Any], condition: Mapping[str, Any]) -> bool:
    try:
        return compile_condition(dict(condition))(attributes)
    except ConditionError:
        return False


def _clamp(low: Any, high: Any) -> list[float]:
    # Positions lie in [0, 1): clamping a range to it keeps exactly the positions it held.
    start = min(max(float(low), 0.0), 1.0)
    end = min(max(float(high), 0.0), 1.0)
    return [start, max(start, end)]


def _filters(filters: Any) -> list[dict[str, Any]] | None:
    found: list[dict[str, Any]] = []
    for item in filters or ():
        version = item.get("hashVersion", 2)
        if version not in _HASHES:
            return None
        found.append(
            {
                "unit": _unit(item.get("attribute")),
                "seed": str(item.get("seed", "")),
                "hash": _HASHES[version],
                "ranges": [_clamp(*r) for r in item.get("ranges") or ()] or [[0.0, 0.0]],
            }
        )
    return found


def _rollout(key: str, rule: Mapping[str, Any]) -> dict[str, Any] | None:
    """The rollout part of a force rule: {} for everyone, None for nobody."""
    coverage, bounds = rule.get("coverage"), rule.get("range")
    if coverage is None and bounds is None:
        return {}
    version = rule.get("hashVersion") or 1
    if version not in _HASHES:
        return None
    if bounds is None:
        if coverage == 0:
            return None
        bounds = (0.0, coverage)
    return {
        "range": _clamp(*bounds),
        "seed": str(rule.get("seed") or key),
        "hash": _HASHES[version],
    }


def _weights(weights: Any, count: int) -> list[float]:
    valid = (
        isinstance(weights, list)
        and len(weights) == count
        and all(
            isinstance(w, int | float) and not isinstance(w, bool) and math.isfinite(w) and w >= 0
            for w in weights
        )
    )
    return [float(w) for w in weights] if valid else [1 / count] * count


def _split(
    key: str, rule: Mapping[str, Any], unit: str, filters: list[dict[str, Any]]
) -> dict[str, Any] | None:
    variations = rule.get("variations")
    if not isinstance(variations, list) or len(variations) < 2:
        return None  # GrowthBook runs no experiment with fewer than two variations
    version = rule.get("hashVersion") or 1
    if version not in _HASHES:
        return None
    if rule.get("ranges"):
        ranges = [tuple(r) for r in rule["ranges"]]
    else:
        coverage = rule.get("coverage")
        ranges = list(
            growthbook_ranges(
                _weights(rule.get("weights"), len(variations)),
                1.0 if coverage is None else float(coverage),
            )
        )
    meta = rule.get("meta") or []
    variants = []
    for index, value in enumerate(variations):
        info = meta[index] if index < len(meta) and isinstance(meta[index], Mapping) else {}
        variant: dict[str, Any] = {"group": str(info.get("key", index)), "value": value}
        variant["ranges"] = [_clamp(*ranges[index])] if index < len(ranges) else [[0.0, 0.0]]
        if info.get("passthrough"):
            variant["passthrough"] = True
        variants.append(variant)
    namespace = rule.get("namespace")
    if not filters and namespace:
        name, start, end = namespace
        # The split's own unit (a filter without one), so a sticky split's fallback unit
        # is in its namespace too, as GrowthBook hashes the fallback attribute for both.
        filters = [{"seed": f"__{name}", "hash": "growthbook_v1", "ranges": [[start, end]]}]
    split: dict[str, Any] = {
        "unit": unit,
        "seed": str(rule.get("seed") or rule.get("key") or key),
        "hash": _HASHES[version],
        "split": {"variants": variants},
    }
    if filters:
        split["filters"] = filters
    return split
