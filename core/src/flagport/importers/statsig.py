"""Statsig definitions (the SDK's config specs) -> flags file.

The flags file is written with ``semantics: statsig`` and ``hash: statsig``, so that
conditions coerce, compare versions and find fields as Statsig's SDK does
(:mod:`flagport.providers.local.conditions.statsig`) and every unit keeps its bucket.

- A feature gate, segment or holdout is a *gate* of the same name (``segment:beta``
  stays ``segment:beta``, so ``pass_gate`` references keep working); its rules
  translate in order, each with its id, salt and pass percentage (a partial one hashes
  a missing or empty unit id as ``""``, as Statsig does: ``missing_unit: empty``); a
  disabled gate keeps its rules, which Statsig's SDK still runs. A custom id type
  (``idType: companyID``) is the unit ``$statsig.companyID``: the custom id only, as
  Statsig's SDK finds it, never an attribute of that name.
- A dynamic config is a *config* (rules serve ``returnValue``, else ``defaultValue``).
- A condition translates one to one (:func:`statsig_condition`): ``user_field`` is an
  attribute test, ``unit_id`` tests ``$customIds``, ``environment_field`` (``tier``)
  tests ``$environment``, ``current_time`` tests ``$now``, ``pass_gate``/``fail_gate``
  are ``$passGate``/``$failGate``, ``in_segment_list`` tests a hashed ID list segment.
- ``user_bucket`` (the unit's bucket 0-999 for a salt) is ``$userBucket``.
- An experiment is an *experiment* and a layer a *config* serving its parameters
  (:mod:`flagport.importers.statsig_experiments`).
- A condition Statsig can never satisfy (``gt`` against text, a reference to a gate
  that does not exist) is written as ``{"$not": {}}``, which never matches.

Left out, and listed in the report: ``ip_based``/``ua_based`` conditions when the user
does not carry the field (Statsig then looks the IP up or parses the user agent: the
flags file sees only the user's own field), environment fields other than ``tier``,
``target_app`` and ``experiment_group``, and rules whose unit differs from their
gate's.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from functools import partial
from typing import Any

from flagport.importers import Imported
from flagport.importers.statsig_experiments import RuleTranslation, import_experiment, import_layer
from flagport.providers.local.conditions import (
    ConditionError,
    ConditionOptions,
    compile_audited,
)
from flagport.providers.local.conditions.statsig_bucket import STATSIG_UNIT

__all__ = [
    "STATSIG_OPERATORS",
    "import_statsig",
    "statsig_condition",
    "statsig_unit",
]

#: Statsig operator -> the flags file's operator (under ``semantics: statsig``).
STATSIG_OPERATORS: dict[str, str] = {
    "gt": "$gt", "gte": "$gte", "lt": "$lt", "lte": "$lte",
    "version_gt": "$vgt", "version_gte": "$vgte", "version_lt": "$vlt",
    "version_lte": "$vlte", "version_eq": "$veq", "version_neq": "$vne",
    "any": "$ini", "none": "$nini", "any_case_sensitive": "$in", "none_case_sensitive": "$nin",
    "str_starts_with_any": "$startsWithi", "str_ends_with_any": "$endsWithi",
    "str_contains_any": "$containsi", "str_contains_none": "$notContainsi",
    "str_matches": "$regex", "before": "$before", "after": "$after", "on": "$on",
    "eq": "$eq", "neq": "$ne",
    "array_contains_any": "$hasAny", "array_contains_none": "$hasNone",
    "array_contains_all": "$hasAll", "not_array_contains_all": "$lacksAny",
    "in_segment_list": "$inGroup", "not_in_segment_list": "$notInGroup",
}  # fmt: skip
NEVER: dict[str, Any] = {"$not": {}}
"""A condition that never matches."""

_GATE_ENTITIES = ("feature_gate", "segment", "holdout")
# Operators whose negation Statsig computes; against an unusable target they still hold.
# Not array_contains_none: Statsig's array tests fail outright when the target is not a
# list, whatever the operator.
_NEGATED = ("none", "none_case_sensitive", "str_contains_none", "neq")
_CHECK = ConditionOptions(semantics="statsig", flag_value=lambda kind, name, user: False)


def statsig_unit(id_type: str | None) -> str:
    """Statsig's ``idType`` as a flagport unit: ``userID`` is ``user_id``, another id
    type ``$statsig.<idType>``, a custom id only (a plain unit name would fall back to
    an attribute of that name, where Statsig's SDK finds no unit)."""
    if not id_type or id_type.lower() == "userid":
        return "user_id"
    return STATSIG_UNIT + id_type


def _id_key(id_type: Any) -> str:
    # The $customIds key / $userBucket unit for Statsig's idType: as written, except an
    # id type flagport reads as the user id (user_id, any case) that Statsig's SDK
    # finds among the custom ids: $statsig.<idType> keeps Statsig's meaning.
    name = str(id_type or "userID")
    return STATSIG_UNIT + name if name.lower() == "user_id" else name


def statsig_condition(
    condition: Mapping[str, Any], gates: Sequence[str] | None = None
) -> dict[str, Any] | None:
    """One Statsig condition as a flags-file condition (``semantics: statsig``).

    :param condition: Statsig's condition (``type``, ``operator``, ``targetValue``,
        ``field``, ``idType``).
    :param gates: the gates that exist (references to others never pass); None
        trusts every reference.
    :returns: the condition, or None when it cannot be expressed.
    """
    kind = condition.get("type")
    target = condition.get("targetValue")
    field = condition.get("field")
    if kind == "public":
        return {}
    if kind in ("pass_gate", "fail_gate"):
        if not isinstance(target, str):
            return None
        if gates is not None and target not in gates:
            # Statsig evaluates an unknown gate as failing.
            return NEVER if kind == "pass_gate" else {}
        return {"$passGate" if kind == "pass_gate" else "$failGate": target}
    op = condition.get("operator")
    mapped = STATSIG_OPERATORS.get(op) if isinstance(op, str) else None
    if mapped is None:
        return None
    test = {mapped: target}
    if op in ("in_segment_list", "not_in_segment_list"):
        return _segment_list(kind, condition, test)
    if kind in ("user_field", "ip_based", "ua_based"):
        if not isinstance(field, str) or not field:
            return None
        found = _field_test(field, test)
    elif kind == "unit_id":
        found = {"$customIds": {_id_key(condition.get("idType")): test}}
    elif kind == "environment_field":
        if field != "tier":
            return None
        found = {"$environment": test}
    elif kind == "current_time":
        found = {"$now": test}
    elif kind == "user_bucket":
        found = _user_bucket(condition, test)
    else:
        return None
    return _usable(found, str(op))


def _segment_list(
    kind: Any, condition: Mapping[str, Any], test: dict[str, Any]
) -> dict[str, Any] | None:
    # The target names an ID list (a segment of the file); without a name Statsig finds
    # no list: in_segment_list fails, not_in_segment_list holds.
    if not isinstance(next(iter(test.values())), str):
        return {} if "$notInGroup" in test else NEVER
    if kind == "unit_id":
        return {"$customIds": {_id_key(condition.get("idType")): test}}
    field = condition.get("field")
    if kind != "user_field" or not isinstance(field, str) or not field:
        return None
    return _field_test(field, test)


def _field_test(field: str, test: dict[str, Any]) -> dict[str, Any]:
    # A name starting with $ or holding a dot is an attribute name, not an operator/path.
    return (
        {"$attributes": {field: test}} if field.startswith("$") or "." in field else {field: test}
    )


def _user_bucket(condition: Mapping[str, Any], test: dict[str, Any]) -> dict[str, Any]:
    # Statsig hashes f"{salt}.{unit}" with the salt in additionalValues (empty if none).
    salt = (condition.get("additionalValues") or {}).get("salt")
    bucket: dict[str, Any] = {"salt": salt if isinstance(salt, str) else ""}
    id_type = condition.get("idType")
    if statsig_unit(id_type) != "user_id":
        bucket["unit"] = _id_key(id_type)  # $userBucket finds a custom id as Statsig does
    bucket["is"] = test
    return {"$userBucket": bucket}


def _usable(found: dict[str, Any], op: str) -> dict[str, Any]:
    # A target Statsig cannot use (text for gt, an object for a version) makes the
    # test fail, or hold for the negated operators; flagport refuses such a target.
    try:
        compile_audited(found, _CHECK)
    except ConditionError:
        return {} if op in _NEGATED else NEVER
    return found


def import_statsig(
    specs: Mapping[str, Any], id_lists: Mapping[str, Sequence[str]] | None = None
) -> Imported:
    """Translate Statsig config specs (``dcs-v2``) into a flags file.

    :param specs: the document the server SDK downloads (``feature_gates``,
        ``dynamic_configs``, ``condition_map``).
    :param id_lists: ID lists by name, as Statsig stores them (hashed ids); they become
        ``hashed_ids`` segments for ``in_segment_list``.
    :returns: the flags mapping and what was left out.
    """
    out = Imported()
    condition_map = specs.get("condition_map") or {}
    raw_gates = specs.get("feature_gates") or {}
    gate_names = [n for n, s in raw_gates.items() if _entity(s) in _GATE_ENTITIES]
    gates: dict[str, Any] = {}
    configs: dict[str, Any] = {}
    for name, spec in raw_gates.items():
        if _entity(spec) in _GATE_ENTITIES:
            gates[name] = _flag(name, spec, condition_map, gate_names, out, gate=True)
        else:
            out.leave_out(name, "entity", f"entity {_entity(spec)!r} is not a gate; skipped")
    experiments: dict[str, Any] = {}
    raw_configs = specs.get("dynamic_configs") or {}
    translate = RuleTranslation(
        when=partial(_rule_condition, condition_map=condition_map, gate_names=gate_names, out=out),
        unit=statsig_unit,
        out=out,
    )
    for name, spec in raw_configs.items():
        if _entity(spec) == "experiment":
            experiments[name] = import_experiment(name, spec, translate)
        elif _entity(spec) == "dynamic_config":
            configs[name] = _flag(name, spec, condition_map, gate_names, out, gate=False)
        else:
            out.leave_out(name, "entity", f"entity {_entity(spec)!r} is not imported")
    _layers(specs, raw_configs, configs, translate)
    flags: dict[str, Any] = {"semantics": "statsig", "hash": "statsig"}
    segments = _id_list_segments([gates, experiments, configs], id_lists or {}, out)
    if segments:
        flags["segments"] = segments
    flags["gates"] = gates
    if experiments:
        flags["experiments"] = experiments
    if configs:
        flags["configs"] = configs
    # Unshared: a payload's condition or value used in several places would otherwise
    # be written to YAML as an anchor and aliases.
    out.flags = json.loads(json.dumps(flags))
    return out


def _layers(
    specs: Mapping[str, Any],
    raw_configs: Mapping[str, Any],
    configs: dict[str, Any],
    translate: RuleTranslation,
) -> None:
    """Each layer as a config of its name serving the layer's parameters."""
    out = translate.out
    for name, spec in (specs.get("layer_configs") or {}).items():
        if name in configs or not isinstance(spec, Mapping):
            out.leave_out(name, "", "a layer whose name is also a dynamic config's is not imported")
            continue
        layer = import_layer(name, spec, raw_configs, translate)
        if layer is not None:
            configs[name] = layer
            out.origins[name] = "Statsig layer"


def _id_list_segments(
    sections: Sequence[Mapping[str, Any]],
    id_lists: Mapping[str, Sequence[str]],
    out: Imported,
) -> dict[str, Any]:
    """The ID lists as hashed segments; a list a condition names but the payload does
    not hold is reported (and empty, so a --partial file still loads)."""
    segments: dict[str, Any] = {name: {"hashed_ids": list(ids)} for name, ids in id_lists.items()}
    for section in sections:
        for flag, definition in section.items():
            for name in sorted(_lists_named(definition)):
                if name not in segments:
                    segments[name] = {"hashed_ids": []}
                    out.leave_out(
                        flag,
                        "",
                        f"ID list {name!r} is not in the payload (id_lists: list name -> "
                        "hashed ids); Statsig's SDK downloads it, the flags file needs it",
                    )
    return segments


def _lists_named(node: Any) -> set[str]:
    found: set[str] = set()
    if isinstance(node, Mapping):
        for key, value in node.items():
            if key in ("$inGroup", "$notInGroup") and isinstance(value, str):
                found.add(value)
            else:
                found |= _lists_named(value)
    elif isinstance(node, list):
        for item in node:
            found |= _lists_named(item)
    return found


def _entity(spec: Any) -> str:
    return str(spec.get("entity")) if isinstance(spec, Mapping) else ""


def _flag(
    name: str,
    spec: Mapping[str, Any],
    condition_map: Mapping[str, Any],
    gate_names: Sequence[str],
    out: Imported,
    *,
    gate: bool,
) -> dict[str, Any]:
    unit = statsig_unit(spec.get("idType"))
    flag: dict[str, Any] = {"unit": unit, "salt": spec.get("salt") or name}
    # ``enabled: false`` is not written: Statsig's SDK (statsig_python_core) still runs a
    # disabled spec's rules, and only names its fall-through rule "disabled".
    if not gate:
        flag["default"] = spec.get("defaultValue") or {}
    rules: list[dict[str, Any]] = []
    for index, rule in enumerate(spec.get("rules") or ()):
        where = f"rules[{index}]"
        if statsig_unit(rule.get("idType") or spec.get("idType")) != unit:
            out.leave_out(name, f"{where}.idType", "a rule's unit differs from its gate's")
        when = _rule_condition(name, where, rule, condition_map, gate_names, out)
        percentage = rule.get("passPercentage", 100)
        entry: dict[str, Any] = {
            "id": str(rule.get("id") or f"rule_{index}"),
            "salt": str(rule.get("salt") or rule.get("id") or f"rule_{index}"),
            "pass_percentage": percentage,
        }
        if isinstance(percentage, int | float) and 0 < percentage < 100:
            # Statsig hashes a missing or empty unit id as "", where a unit is otherwise
            # outside the rollout.
            entry["missing_unit"] = "empty"
        if when is not None:
            entry["when"] = when
        if not gate:
            entry["value"] = rule.get("returnValue") or {}
        rules.append(entry)
    flag["rules"] = rules
    return flag


def _rule_condition(
    name: str,
    where: str,
    rule: Mapping[str, Any],
    condition_map: Mapping[str, Any],
    gate_names: Sequence[str],
    out: Imported,
) -> dict[str, Any] | None:
    """A Statsig rule's conditions (all must hold) as one flags-file condition.

    :param where: the rule's place in its flag (``rules[2]``), for the report.
    :returns: the condition, or None when the rule applies to everyone; a condition
        that cannot be expressed is reported in ``out`` and never matches.
    """
    parts = [
        _rule_part(name, f"{where}.conditions[{position}]", ref, condition_map, gate_names, out)
        for position, ref in enumerate(rule.get("conditions") or ())
    ]
    kept = [part for part in parts if part]  # "public" is {}: no test
    if not kept:
        return None
    return kept[0] if len(kept) == 1 else {"$and": kept}


def _rule_part(
    name: str,
    where: str,
    ref: Any,
    condition_map: Mapping[str, Any],
    gate_names: Sequence[str],
    out: Imported,
) -> dict[str, Any]:
    raw = condition_map.get(ref) if isinstance(ref, str) else ref
    found = statsig_condition(raw, gate_names) if isinstance(raw, Mapping) else None
    if found is not None:
        return found
    out.leave_out(name, where, f"condition {raw!r} cannot be expressed; the rule never matches")
    return NEVER
