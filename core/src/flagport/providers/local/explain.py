"""Why a flag has its value for a user: the story behind ``flagport explain``.

The explanation walks the same definitions the evaluator compiled, rule by rule:
each sub-condition with its outcome, the unit's bucket against the rule's threshold,
and the reason the evaluation stopped. The final result is the evaluator's own
(``CompiledGate.evaluate`` and friends), so the story can never disagree with what
the application is served.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from flagport.errors import FlagNotFoundError
from flagport.providers.local.compiled import CompiledExperiment, Percentage, Snapshot
from flagport.providers.local.conditions import Condition, ConditionOptions, explain_condition
from flagport.providers.local.explain_rules import explain_rules
from flagport.providers.local.models import ConfigDef, ExperimentDef, GateDef
from flagport.results import Result
from flagport.user import User

__all__ = ["Explanation", "Line", "explain"]


@dataclass(frozen=True, slots=True)
class Line:
    """One step of an explanation.

    :ivar depth: nesting for display (0 = a rule, 1 = a part of it).
    :ivar text: what was checked.
    :ivar ok: the outcome, or None for plain information.
    """

    depth: int
    text: str
    ok: bool | None = None

    def to_dict(self) -> dict[str, Any]:
        return {"depth": self.depth, "text": self.text, "ok": self.ok}


@dataclass(slots=True)
class Explanation:
    """Every step, the result the evaluator returns, and the reason in words."""

    kind: str
    name: str
    source: str
    lines: list[Line] = field(default_factory=list)
    result: Result | None = None
    summary: str = ""

    def add(self, depth: int, text: str, ok: bool | None = None) -> None:
        self.lines.append(Line(depth, text, ok))

    def to_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "name": self.name,
            "source": self.source,
            "steps": [line.to_dict() for line in self.lines],
            "result": self.result.to_dict() if self.result is not None else None,
            "summary": self.summary,
        }


def _when(
    out: Explanation,
    cond: Mapping[str, Any] | None,
    compiled: Condition | None,
    user: User,
    options: ConditionOptions | None,
) -> bool:
    attributes = user.attributes
    if cond is None or compiled is None:
        out.add(1, "when: (none) - applies to everyone", True)
        return True
    for text, ok in explain_condition(cond, attributes, options=options, user=user):
        out.add(1, text, ok)
    # The parts are listed depth first; the evaluator's own condition decides.
    matched = compiled(attributes, user)
    out.add(1, "when: matched" if matched else "when: not matched", matched)
    return matched


def _percentage(out: Explanation, percentage: Percentage, user: User) -> bool:
    unit_name = percentage.unit
    unit = percentage.unit_of(user)
    if not unit:
        out.add(1, f"pass_percentage {percentage.percentage:g}%: no {unit_name} -> fails", False)
        return False
    passed = percentage.bucketer.gate_passes(
        percentage.flag_salt, percentage.rule_salt, unit, percentage.percentage
    )
    value = _gate_bucket(percentage, unit)
    shown = ""
    if value is not None:
        shown = f"bucket {value:.4f} {'<' if passed else '>='} {percentage.percentage / 100:.4f}"
    out.add(
        1,
        f"pass_percentage {percentage.percentage:g}% of {unit_name} {unit!r} "
        f"(salts {percentage.flag_salt!r}.{percentage.rule_salt!r}): "
        f"{shown + ' ' if shown else ''}{'passes' if passed else 'fails'}",
        passed,
    )
    return passed


def _gate_bucket(percentage: Percentage, unit: str) -> float | None:
    # Not every algorithm exposes the raw position; show it when it does.
    raw = getattr(percentage.bucketer, "gate_bucket", None)
    if raw is None:
        return None
    try:
        return float(raw(percentage.flag_salt, percentage.rule_salt, unit))
    except Exception:
        return None


def _rules(
    out: Explanation,
    definition: GateDef | ConfigDef | ExperimentDef,
    compiled_rules: tuple[Any, ...],
    user: User,
    options: ConditionOptions | None,
) -> bool:
    rules = definition.rules or []
    return explain_rules(out, rules, compiled_rules, user, options, _when, _percentage)


def _gate(out: Explanation, snapshot: Snapshot, definition: GateDef, user: User) -> None:
    gate = snapshot.gates[out.name]
    if not definition.enabled:
        out.add(0, "enabled: false - the gate is off for everyone", False)
    elif definition.overrides:
        forced = definition.overrides.get(user.user_id or "")
        if forced is not None:
            out.add(0, f"overrides: user_id {user.user_id!r} is forced to {forced}", True)
        else:
            out.add(0, f"overrides: user_id {user.user_id!r} is not listed", False)
            _rules(out, definition, gate.rules, user, snapshot.conditions)
    else:
        _rules(out, definition, gate.rules, user, snapshot.conditions)
    out.result = gate.evaluate(user)


def _config(out: Explanation, snapshot: Snapshot, definition: ConfigDef, user: User) -> None:
    config = snapshot.configs[out.name]
    _rules(out, definition, config.rules, user, snapshot.conditions)
    out.result = config.evaluate(user)


def _experiment(
    out: Explanation, snapshot: Snapshot, definition: ExperimentDef, user: User
) -> None:
    exp: CompiledExperiment = snapshot.experiments[out.name]
    out.result = exp.evaluate(user)
    if definition.status == "stopped":
        out.add(0, "status: stopped - nobody is in the experiment", False)
        return
    if definition.status == "launched":
        out.add(0, f"status: launched - everyone gets the winner {definition.winner!r}", True)
        return
    unit = user.user_id if exp.unit == "user_id" else user.custom_ids.get(exp.unit)
    if unit and unit in definition.overrides:
        out.add(0, f"unit {exp.unit} = {unit!r}", True)
        out.add(0, f"overrides: forced into group {definition.overrides[unit]!r}", True)
        return
    if definition.overrides:
        out.add(0, "overrides: unit not listed", False)
    if definition.rules and _rules(out, definition, exp.rules, user, snapshot.conditions):
        return
    if not definition.groups:
        return
    if not unit:
        out.add(0, f"unit {exp.unit}: missing - the user cannot be bucketed", False)
        return
    out.add(0, f"unit {exp.unit} = {unit!r}", True)
    out.add(0, "targeting")
    if not _when(out, definition.when, exp.when, user, snapshot.conditions):
        return
    if exp.namespace is not None:
        ns, start, end = exp.namespace
        inside = exp.in_namespace(unit)
        out.add(
            0, f"namespace {ns!r} range [{start:g}, {end:g}): {'in' if inside else 'out'}", inside
        )
        if not inside:
            return
    salt = definition.salt or out.name
    position = exp.bucketer.experiment_bucket(salt, unit)
    index = exp.group_index(unit)
    out.add(0, f"allocation {definition.allocation:g}%, salt {salt!r}: bucket {position:.4f}")
    start = 0.0
    for number, group in enumerate(definition.groups):
        share = group.weight / 100
        end = start + share * definition.allocation / 100
        chosen = number == index
        out.add(
            1,
            f"group {group.name!r} weight {group.weight:g}: [{start:.4f}, {end:.4f})",
            chosen,
        )
        start += share
    if index < 0:
        out.add(0, "outside the allocation: not in the experiment", False)


def explain(snapshot: Snapshot, kind: str, name: str, user: User) -> Explanation:
    """Explain one flag's evaluation for ``user``.

    :param kind: ``gate``, ``experiment`` or ``config``.
    :raises FlagNotFoundError: no such flag of that kind.
    """
    definitions = snapshot.definitions
    section = {"gate": "gates", "experiment": "experiments", "config": "configs"}[kind]
    found = getattr(definitions, section).get(name) if definitions is not None else None
    if found is None:
        raise FlagNotFoundError(f"no {kind} named {name!r} in {snapshot.source}")
    out = Explanation(kind, name, snapshot.source)
    if isinstance(found, GateDef):
        _gate(out, snapshot, found, user)
    elif isinstance(found, ConfigDef):
        _config(out, snapshot, found, user)
    else:
        _experiment(out, snapshot, found, user)
    result = out.result
    if result is not None:
        value = getattr(result, "group", None) or result.value
        out.summary = (
            f"{kind} {name!r} -> {value!r} (reason {result.reason.value}"
            f"{', rule ' + repr(result.rule_id) if result.rule_id else ''})"
        )
    return out
