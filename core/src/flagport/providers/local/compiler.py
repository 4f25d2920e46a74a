"""Validated definitions -> a compiled :class:`~flagport.providers.local.compiled.Snapshot`.

Everything the pydantic models cannot see on their own is checked here, and every
problem is collected (not just the first), each with its path inside the file:
conditions that do not compile, unknown segments, weights that do not sum to 100,
a launched experiment without a winner, an override naming no group, and so on.
(Names shared by two kinds of flag are caught by the loader, on the raw file.)
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from types import MappingProxyType
from typing import Any, cast

from flagport.provider import FlagNames
from flagport.providers.local.bucketing import Bucketer, HashMode, get_bucketer
from flagport.providers.local.compiled import (
    PROVIDER,
    CompiledConfig,
    CompiledExperiment,
    CompiledGate,
    Percentage,
    Rule,
    Snapshot,
    frozen_value,
)
from flagport.providers.local.conditions import Condition, ConditionError, compile_audited
from flagport.providers.local.limits import MAX_CONDITION_SIZE, Audit, Problem
from flagport.providers.local.models import (
    ConfigDef,
    ConfigRuleDef,
    ExperimentDef,
    FlagsFile,
    GateDef,
    GateRuleDef,
)
from flagport.reasons import Reason
from flagport.results import ConfigResult, ExperimentResult, FrozenDict, GateResult
from flagport.sticky.policy import sticky_policy

__all__ = ["WEIGHT_TOLERANCE", "Problem", "compile_definitions", "join_path"]

#: How far group weights may stray from 100 in total (rounding of thirds: 33.33 * 3).
WEIGHT_TOLERANCE = 0.011

_EMPTY = FrozenDict()
# Enum member access costs a lookup each time; compiling 10,000 flags does it often.
_MATCH, _SPLIT, _DEFAULT = Reason.TARGETING_MATCH, Reason.SPLIT, Reason.DEFAULT


def join_path(*parts: str | int) -> str:
    """Write a path the way error messages show it: ``a.b[1].c``."""
    out = ""
    for part in parts:
        if isinstance(part, int):
            out += f"[{part}]"
        elif out:
            out += f".{part}"
        else:
            out = str(part)
    return out


def _bucketer(mode: str, cache: dict[str, Bucketer]) -> Bucketer:
    found = cache.get(mode)
    if found is None:
        found = cache[mode] = get_bucketer(cast(HashMode, mode))
    return found


def make_chooser(
    bucketer: Bucketer, salt: str, weights: tuple[float, ...], allocation: float
) -> Callable[[str], int]:
    """Build ``unit -> group index (or -1)`` for one experiment.

    Each algorithm places group boundaries in its vendor's own arithmetic
    (``choose_group`` of :mod:`flagport.providers.local.bucketing`): groups take consecutive
    slices by weight and each slice keeps its first ``allocation`` percent, so raising
    the allocation later never moves a unit that was already assigned.
    """
    choose_group = cast(Any, bucketer).choose_group

    def choose(unit: str) -> int:
        return int(choose_group(salt, unit, weights, allocation))

    return choose


class _Compiler:
    def __init__(self, definitions: FlagsFile, default_hash: str, audit: Audit) -> None:
        self.defs = definitions
        self.mode = definitions.hash or default_hash
        self.segments: dict[str, Any] = dict(definitions.segments)
        self.problems: list[Problem] = []
        self.bucketers: dict[str, Bucketer] = {}
        self.compiled: dict[str, Condition] = {}
        self.audit = audit
        for name, values in self.segments.items():
            self.problems.extend(self.audit.check(values, join_path("segments", name)))

    def condition(self, cond: Mapping[str, Any] | None, path: str) -> Condition | None:
        if cond is None:
            return None
        # Bounded first: the memo key below and the compiler both walk the condition.
        limits = self.audit.check(cond, path, max_size=MAX_CONDITION_SIZE)
        if limits or self.audit.exhausted:
            self.problems.extend(limits)
            return None
        # Large files repeat the same conditions ({plan: pro}); compile each once. The
        # key keeps key order, which matters for literal objects compared deeply.
        try:
            key: str | None = json.dumps(cond, separators=(",", ":"))
        except (TypeError, ValueError):
            key = None
        if key is not None and (known := self.compiled.get(key)) is not None:
            return known
        try:
            compiled = compile_audited(cond, self.segments, path=path)
        except ConditionError as exc:
            where = exc.path or path
            if not where.startswith(path):
                where = f"{path}.{where}" if where else path
            self.problems.append((where, exc.message))
            return None
        if key is not None:
            self.compiled[key] = compiled
        return compiled

    def value(self, value: Mapping[str, Any] | None, path: str) -> Mapping[str, Any] | None:
        """A value served to applications, frozen once it is known to be bounded."""
        if value is None:
            return None
        limits = self.audit.check(value, path)
        if limits or self.audit.exhausted:
            self.problems.extend(limits)
            return _EMPTY
        return frozen_value(value)

    def check_rule_ids(self, ids: list[str], path: str) -> None:
        seen: dict[str, int] = {}
        for index, rule_id in enumerate(ids):
            if rule_id in seen:
                self.problems.append(
                    (
                        join_path(path, "rules", index, "id"),
                        f"rule id {rule_id!r} is already used by rules[{seen[rule_id]}]; "
                        "give each rule of a flag its own id",
                    )
                )
            else:
                seen[rule_id] = index

    # -- gates and configs: ordered rules, the first matching one decides -----------
    def rules(
        self,
        path: str,
        name: str,
        flag: GateDef | ConfigDef,
        result: Callable[..., Any],
        hit_value: Callable[[Any, str], Any],
        miss_value: Any,
    ) -> tuple[Rule, ...]:
        """Compile a gate's or config's rules, with every result they can serve.

        :param result: the result class (``GateResult`` or ``ConfigResult``).
        :param hit_value: a rule definition and its path -> the value served when it passes.
        :param miss_value: the value served when a rule's percentage fails.
        """
        bucketer = _bucketer(flag.hash or self.mode, self.bucketers)
        flag_salt = flag.salt or name
        definitions: Sequence[GateRuleDef | ConfigRuleDef] = flag.rules
        ids = [rule.id or f"rule_{i}" for i, rule in enumerate(definitions)]
        if len(set(ids)) < len(ids):
            self.check_rule_ids(ids, path)
        compiled: list[Rule] = []
        for index, (rule_id, rule) in enumerate(zip(ids, definitions, strict=True)):
            when = self.condition(rule.when, f"{path}.rules[{index}].when")
            pct = float(rule.pass_percentage)
            value = hit_value(rule, f"{path}.rules[{index}].value")
            if pct >= 100:
                # No percentage: the miss outcome can never be served, so is not built.
                hit = result(
                    name=name, value=value, reason=_MATCH, rule_id=rule_id, provider=PROVIDER
                )
                compiled.append(Rule(rule_id, when, None, hit, None))
                continue
            percentage = Percentage(bucketer, flag.unit, flag_salt, rule.salt or rule_id, pct)
            miss = result(
                name=name, value=miss_value, reason=_SPLIT, rule_id=rule_id, provider=PROVIDER
            )
            hit = miss
            if pct > 0:
                hit = result(
                    name=name, value=value, reason=_SPLIT, rule_id=rule_id, provider=PROVIDER
                )
            compiled.append(Rule(rule_id, when, percentage, hit, miss))
        return tuple(compiled)

    def gate(self, name: str, gate: GateDef) -> CompiledGate:
        rules = self.rules(f"gates.{name}", name, gate, GateResult, lambda *_: True, False)
        overrides: dict[str, GateResult] = {}
        if gate.overrides:
            forced = {
                value: GateResult(
                    name=name, value=value, reason=_MATCH, rule_id="override", provider=PROVIDER
                )
                for value in (True, False)
            }
            overrides = {unit: forced[value] for unit, value in gate.overrides.items()}
        disabled = None
        if not gate.enabled:
            disabled = GateResult(name=name, value=False, reason=Reason.DISABLED, provider=PROVIDER)
        return CompiledGate(name, rules, overrides, disabled)

    def config(self, name: str, config: ConfigDef) -> CompiledConfig:
        default_value = self.value(config.default, f"configs.{name}.default") or _EMPTY

        def value(rule: Any, where: str) -> Any:
            return self.value(rule.value, where) or _EMPTY

        rules = self.rules(f"configs.{name}", name, config, ConfigResult, value, default_value)
        default = ConfigResult(name=name, value=default_value, reason=_DEFAULT, provider=PROVIDER)
        return CompiledConfig(name, rules, default)

    # -- experiments -----------------------------------------------------------------
    def experiment(self, name: str, exp: ExperimentDef) -> CompiledExperiment:
        path = f"experiments.{name}"
        mode = exp.hash or self.mode
        bucketer = _bucketer(mode, self.bucketers)
        salt = exp.salt or name
        group_index: dict[str, int] = {}
        for index, group in enumerate(exp.groups):
            if group.name in group_index:
                self.problems.append(
                    (
                        join_path(path, "groups", index, "name"),
                        f"group {group.name!r} is defined twice; group names must be unique",
                    )
                )
            else:
                group_index[group.name] = index
        total = sum(group.weight for group in exp.groups)
        if abs(total - 100) > WEIGHT_TOLERANCE:
            shown = " + ".join(f"{g.weight:g}" for g in exp.groups)
            self.problems.append(
                (
                    join_path(path, "groups"),
                    f"group weights add up to {total:g} ({shown}), not 100; "
                    "adjust them so they sum to 100",
                )
            )
        known = ", ".join(repr(g) for g in group_index)
        if exp.status == "launched" and exp.winner is None:
            self.problems.append(
                (
                    join_path(path, "winner"),
                    f"a launched experiment needs a winner: add 'winner:' naming one of {known}",
                )
            )
        if exp.winner is not None and exp.winner not in group_index:
            self.problems.append(
                (join_path(path, "winner"), f"winner {exp.winner!r} is not a group; use {known}")
            )
        elif exp.winner is not None and exp.status != "launched":
            self.problems.append(
                (
                    join_path(path, "winner"),
                    f"winner is only used when status is 'launched' (status is {exp.status!r}); "
                    "set status: launched or remove the winner",
                )
            )
        for unit, group_name in exp.overrides.items():
            if group_name not in group_index:
                self.problems.append(
                    (
                        join_path(path, "overrides", unit),
                        f"override names group {group_name!r}, which is not a group; use {known}",
                    )
                )
        namespace = None
        if exp.namespace is not None:
            start, end = exp.namespace.range
            if not 0 <= start < end <= 1:
                self.problems.append(
                    (
                        join_path(path, "namespace", "range"),
                        f"namespace range [{start:g}, {end:g}] is invalid; it must satisfy "
                        "0 <= start < end <= 1 (fractions of the namespace)",
                    )
                )
            namespace = (exp.namespace.name, float(start), float(end))
        when = self.condition(exp.when, f"{path}.when")
        default_value = self.value(exp.default, f"{path}.default")

        def result(reason: Reason, **kw: Any) -> ExperimentResult:
            return ExperimentResult(name=name, reason=reason, provider=PROVIDER, **kw)

        groups = tuple(
            result(
                _SPLIT,
                group=g.name,
                value=self.value(g.value, join_path(path, "groups", i, "value")) or _EMPTY,
                rule_id=g.name,
                in_experiment=True,
            )
            for i, g in enumerate(exp.groups)
        )
        forced: dict[str, ExperimentResult] = {}
        overrides: dict[str, ExperimentResult] = {}
        for unit, group_name in exp.overrides.items():
            if group_name not in group_index:
                continue
            if group_name not in forced:
                forced[group_name] = result(
                    _MATCH,
                    group=group_name,
                    value=groups[group_index[group_name]].value,
                    rule_id="override",
                )
            overrides[unit] = forced[group_name]
        not_in = result(_DEFAULT, value=default_value)
        static = None
        if exp.status == "stopped":
            static = result(Reason.DISABLED, value=default_value)
        elif exp.status == "launched" and exp.winner in group_index:
            winner = groups[group_index[exp.winner]]
            static = result(
                Reason.STATIC, group=winner.group, value=winner.value, rule_id="launched"
            )
        weights = tuple(float(g.weight) for g in exp.groups)
        allocation = float(exp.allocation)
        compiled = CompiledExperiment(
            name=name,
            unit=exp.unit,
            bucketer=bucketer,
            choose=make_chooser(bucketer, salt, weights, allocation),
            when=when,
            groups=groups,
            overrides=overrides,
            namespace=namespace,
            not_in=not_in,
            static=static,
        )
        compiled.sticky = sticky_policy(exp, path, self.problems)
        return compiled

    # -- the whole file -------------------------------------------------------------
    def run(self, source: str) -> Snapshot:
        gates = {n: self.gate(n, g) for n, g in self.defs.gates.items()}
        experiments = {n: self.experiment(n, e) for n, e in self.defs.experiments.items()}
        configs = {n: self.config(n, c) for n, c in self.defs.configs.items()}
        return Snapshot(
            # Plain dicts, never modified after this point: the hot path is one
            # dict lookup (a read-only proxy would add ~40 ns to every evaluation).
            gates=gates,
            experiments=experiments,
            configs=configs,
            source=source,
            definitions=self.defs,
            segments=MappingProxyType(self.segments),
            hash=self.mode,
            ready=True,
            names=FlagNames(frozenset(gates), frozenset(experiments), frozenset(configs)),
        )


def compile_definitions(
    definitions: FlagsFile,
    *,
    source: str,
    default_hash: str = "statsig",
    audit: Audit | None = None,
) -> tuple[Snapshot, list[Problem]]:
    """Compile validated definitions.

    :param definitions: the validated file.
    :param source: the file path (or ``"inline"``), kept on the snapshot.
    :param default_hash: the bucketing algorithm when the file does not name one.
    :param audit: the file's audit, already used by validation; a new one when None.
    :returns: the snapshot and every problem found; use the snapshot only when the
        list is empty.
    """
    compiler = _Compiler(definitions, default_hash, Audit() if audit is None else audit)
    snapshot = compiler.run(source)
    return snapshot, compiler.problems
