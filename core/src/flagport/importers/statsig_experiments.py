"""Statsig experiments and layers -> flags-file experiments and configs.

Statsig's SDK evaluates an experiment like any other config: the first rule whose
conditions all hold decides, and its pass percentage picks the rule's value or the
experiment's default. Groups are rules marked ``isExperimentGroup`` whose conditions
test the unit's ``user_bucket`` for the experiment's salt; an experiment in a layer
starts with a ``layerAssignment`` rule testing the bucket for the *layer's* salt;
targeting gates and holdouts are ``fail_gate``/``pass_gate`` rules. So:

- an experiment becomes an experiment with ``rules`` only (no weighted groups): a
  group rule serves its group through a one-variant split (``in_experiment`` true, as
  Statsig's SDK reports an experiment group), any other rule serves its value (and
  its ``groupName`` when it has one); ``user_bucket`` conditions become
  ``$userBucket`` conditions, which hash exactly as the SDK does;
- a layer becomes a config of the same name serving the layer's parameters (what
  ``get_layer`` answers): a rule delegating to an experiment (``configDelegate``) is
  that experiment's rules inlined behind the layer rule's conditions (the SDK
  evaluates the delegate in place, whatever the layer rule's pass percentage), then
  the experiment's default for units none of them serve.

Left out, with the reason: other entities (``autotune``...), layers evaluated with
Statsig's newer parameter-merging evaluation (``useNewLayerEval``), a rule with a
group name and a partial pass percentage (a unit outside it gets the default *with*
that group name), and a layer whose name is also a dynamic config's.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from flagport.importers import Imported

__all__ = ["RuleTranslation", "import_experiment", "import_layer"]


@dataclass(frozen=True, slots=True)
class RuleTranslation:
    """How the parts of a Statsig rule translate (given by :mod:`.statsig`).

    :ivar when: (flag, place, rule) -> the rule's conditions as one flags-file
        condition, None for everyone; what cannot be expressed is reported in ``out``.
    :ivar unit: Statsig's ``idType`` -> the flags file's unit.
    :ivar out: the import's report.
    """

    when: Callable[[str, str, Mapping[str, Any]], dict[str, Any] | None]
    unit: Callable[[Any], str]
    out: Imported


def _rule_base(
    name: str,
    where: str,
    rule: Mapping[str, Any],
    spec: Mapping[str, Any],
    translate: RuleTranslation,
) -> dict[str, Any]:
    """The fields every translated rule has: id, condition, unit, salts, percentage."""
    entry: dict[str, Any] = {"id": str(rule.get("id") or where)}
    when = translate.when(name, where, rule)
    if when is not None:
        entry["when"] = when
    unit = translate.unit(rule.get("idType") or spec.get("idType"))
    if unit != translate.unit(spec.get("idType")):
        entry["unit"] = unit
    percentage = rule.get("passPercentage", 100)
    if isinstance(percentage, int | float) and percentage < 100:
        entry["salt"] = str(rule.get("salt") or rule.get("id") or where)
        entry["pass_percentage"] = percentage
        # Statsig hashes a unit the user lacks as "", where a rule would leave it outside.
        entry["missing_unit"] = "empty"
    return entry


def _serve(
    name: str, where: str, rule: Mapping[str, Any], entry: dict[str, Any], out: Imported
) -> None:
    """What an experiment rule serves: its group (split), its group name, or its value."""
    value = rule.get("returnValue")
    value = value if value is not None else {}
    group = rule.get("groupName")
    if group is not None and "pass_percentage" in entry:
        out.leave_out(
            name,
            where,
            "a rule with a group name and a partial pass percentage serves the default "
            "with that group name to the units it leaves out; the flags file cannot",
        )
    if rule.get("isExperimentGroup") and isinstance(group, str) and group:
        if "pass_percentage" in entry:
            del entry["pass_percentage"], entry["salt"], entry["missing_unit"]
        # A one-variant split reports the group as an experiment group; Statsig hashes a
        # unit the user lacks as "", so such a unit is still in the group.
        entry["split"] = {"variants": [{"group": group, "value": value, "weight": 100}]}
        entry["missing_unit"] = "empty"
        return
    if isinstance(group, str) and group:
        entry["group"] = group
    entry["value"] = value


def import_experiment(
    name: str, spec: Mapping[str, Any], translate: RuleTranslation
) -> dict[str, Any]:
    """One Statsig experiment (a ``dynamic_configs`` entry of entity ``experiment``).

    :returns: the flags file's experiment.
    """
    default = spec.get("defaultValue")
    experiment: dict[str, Any] = {
        "unit": translate.unit(spec.get("idType")),
        "salt": str(spec.get("salt") or name),
        "default": default if default is not None else {},
    }
    rules = []
    for index, rule in enumerate(spec.get("rules") or ()):
        where = f"rules[{index}]"
        entry = _rule_base(name, where, rule, spec, translate)
        _serve(name, where, rule, entry, translate.out)
        rules.append(entry)
    experiment["rules"] = rules
    return experiment


def import_layer(
    name: str,
    spec: Mapping[str, Any],
    experiments: Mapping[str, Any],
    translate: RuleTranslation,
) -> dict[str, Any] | None:
    """One Statsig layer as a config serving its parameters.

    :param experiments: the payload's ``dynamic_configs`` (the delegates).
    :returns: the config, or None when the layer cannot be expressed (reported).
    """
    if spec.get("useNewLayerEval"):
        translate.out.leave_out(
            name,
            "useNewLayerEval",
            "this layer merges the parameters of several rules (Statsig's newer layer "
            "evaluation); the flags file serves one rule's value",
        )
        return None
    default = spec.get("defaultValue")
    config: dict[str, Any] = {
        "description": "It serves the layer's parameters (what get_layer answers).",
        "unit": translate.unit(spec.get("idType")),
        "salt": str(spec.get("salt") or name),
        "default": default if default is not None else {},
    }
    rules: list[dict[str, Any]] = []
    for index, rule in enumerate(spec.get("rules") or ()):
        where = f"rules[{index}]"
        entry = _rule_base(name, where, rule, spec, translate)
        delegate = rule.get("configDelegate")
        target = experiments.get(delegate) if isinstance(delegate, str) else None
        if not isinstance(target, Mapping):
            entry["value"] = rule.get("returnValue") if rule.get("returnValue") is not None else {}
            rules.append(entry)
            continue
        rules.extend(_delegated(name, str(delegate), target, entry, translate))
    config["rules"] = _unique_ids(rules)
    return config


def _delegated(
    layer: str,
    delegate: str,
    experiment: Mapping[str, Any],
    layer_rule: dict[str, Any],
    translate: RuleTranslation,
) -> list[dict[str, Any]]:
    """A layer rule delegating to ``experiment``: the experiment's rules behind the
    layer rule's condition, then the experiment's default for the rest."""
    default = experiment.get("defaultValue")
    default = default if default is not None else {}
    gate = layer_rule.get("when")
    salt = str(experiment.get("salt") or delegate)
    rules = []
    for index, rule in enumerate(experiment.get("rules") or ()):
        # Reported against the layer, at the experiment's rule.
        entry = _rule_base(layer, f"{delegate}.rules[{index}]", rule, experiment, translate)
        when = entry.get("when")
        if gate is not None:
            entry["when"] = gate if when is None else {"$and": [gate, when]}
        entry.pop("unit", None)
        if "pass_percentage" in entry:
            # Hashed with the experiment's salt and unit; a unit outside gets its default
            # (a layer has no group, so a rule's group name does not matter here).
            entry["unit"] = translate.unit(rule.get("idType") or experiment.get("idType"))
            entry["seed"] = salt
            entry["outside"] = {"value": default}
        value = rule.get("returnValue")
        entry["value"] = value if value is not None else {}
        rules.append(entry)
    rest: dict[str, Any] = {"id": layer_rule["id"], "value": default}
    if gate is not None:
        rest["when"] = gate
    rules.append(rest)
    return rules


def _unique_ids(rules: list[dict[str, Any]]) -> list[dict[str, Any]]:
    # Inlined experiments repeat rule ids (every one has a layerAssignment rule).
    seen: dict[str, int] = {}
    for rule in rules:
        base = rule["id"]
        count = seen.get(base, 0)
        seen[base] = count + 1
        if count:
            rule["id"] = f"{base}~{count}"
    return rules
