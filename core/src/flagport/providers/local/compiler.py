"""Validated definitions -> a compiled :class:`~flagport.providers.local.compiled.Snapshot`.

Everything the pydantic models cannot see on their own is checked here, and every
problem is collected (not just the first), each with its path inside the file:
conditions that do not compile, unknown segments, weights that do not sum to 100,
a launched experiment without a winner, an override naming no group, and so on.
(Names shared by two kinds of flag are caught by the loader, on the raw file.)
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import replace
from types import MappingProxyType
from typing import Any, cast

from flagport.provider import FlagNames
from flagport.providers.local.bucketing import Bucketer, HashMode, get_bucketer
from flagport.providers.local.compiled import (
    PROVIDER,
    CompiledConfig,
    CompiledExperiment,
    CompiledGate,
    Snapshot,
    frozen_value,
)
from flagport.providers.local.conditions import (
    Condition,
    ConditionError,
    SegmentDef,
    compile_audited,
)
from flagport.providers.local.conditions.setup import build_options
from flagport.providers.local.limits import MAX_CONDITION_SIZE, Audit, Problem
from flagport.providers.local.models import ConfigDef, ExperimentDef, FlagsFile, GateDef
from flagport.providers.local.rule_compiler import (
    WEIGHT_TOLERANCE,
    FlagContext,
    RuleCompiler,
    Serving,
)
from flagport.reasons import Reason
from flagport.results import ConfigResult, ExperimentResult, FrozenDict, GateResult, freeze
from flagport.sticky.policy import FallbackSwitch, has_fallback, sticky_policy

__all__ = ["WEIGHT_TOLERANCE", "Problem", "compile_definitions", "join_path"]

_EMPTY = FrozenDict()
# One encoder for every memo key: json.dumps with any option builds a new encoder per
# call, which cost more than the lookup it serves in a 10,000-flag file.
_memo_key = json.JSONEncoder(separators=(",", ":")).encode
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
        names = [*definitions.gates, *definitions.experiments, *definitions.configs]
        self.rule_compiler = RuleCompiler(
            self.condition,
            self.problems,
            names,
            exact_literals=definitions.semantics == "growthbook",
        )
        self.groups_in_scope: dict[str, Any] = {}
        for name, values in self.segments.items():
            raw = values.model_dump() if isinstance(values, SegmentDef) else values
            self.problems.extend(self.audit.check(raw, join_path("segments", name)))
        # Gate references in conditions are bound late: the gates are compiled after.
        self.gate_table: dict[str, CompiledGate] = {}
        table = self.gate_table
        self.options, problems = build_options(
            definitions.segments,
            semantics=definitions.semantics,
            strict=definitions.strict_conditions,
            flag_names=frozenset(definitions.gates),
            flag_value=lambda kind, name, user: table[name].evaluate(user).value,
        )
        self.problems.extend(problems)

    def condition(
        self, cond: Mapping[str, Any] | None, path: str, semantics: str | None = None
    ) -> Condition | None:
        """Compile a condition with the file's options (a rule may name its semantics)."""
        if cond is None:
            return None
        # Bounded first: the memo key below and the compiler both walk the condition.
        limits = self.audit.check(cond, path, max_size=MAX_CONDITION_SIZE)
        if limits or self.audit.exhausted:
            self.problems.extend(limits)
            return None
        # Large files repeat the same conditions ({plan: pro}); compile each once. The
        # key keeps key order, which matters for literal objects compared deeply.
        options = self.options
        if semantics is not None and semantics != options.semantics:
            options = replace(options, semantics=semantics)  # type: ignore[arg-type]
        try:
            key: str | None = options.semantics + _memo_key(cond)
        except (TypeError, ValueError):
            key = None
        if key is not None and (known := self.compiled.get(key)) is not None:
            return known
        try:
            compiled = compile_audited(cond, options, path=path)
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

    def serve(self, value: Any, path: str) -> Any:
        """A served value (any JSON), frozen once it is known to be bounded."""
        if type(value) is dict or isinstance(value, Mapping):  # dict first: ABC checks are slow
            return self.value(value, path) or _EMPTY
        limits = self.audit.check(value, path)
        if limits or self.audit.exhausted:
            self.problems.extend(limits)
            return None
        return freeze(value)

    def flag(self, path: str, name: str, flag: GateDef | ConfigDef | ExperimentDef) -> FlagContext:
        return FlagContext(name, path, flag.unit, flag.salt or name, flag.hash or self.mode)

    # -- gates and configs: ordered rules, the first matching one decides -----------
    def gate(self, name: str, gate: GateDef) -> CompiledGate:
        path = f"gates.{name}"

        def result(value: bool, reason: Reason, rule_id: str) -> GateResult:
            return GateResult(
                name=name, value=value, reason=reason, rule_id=rule_id, provider=PROVIDER
            )

        def hit(rule: Any, rule_id: str, where: str) -> GateResult:
            pct = rule.pass_percentage
            plain = (pct is None or pct >= 100) and rule.range is None and not rule.filters
            if pct is not None and pct <= 0 and rule.range is None:
                return result(False, _SPLIT, rule_id)
            return result(bool(rule.value), _MATCH if plain else _SPLIT, rule_id)

        def variant(value: Any, group: str | None, rule_id: str, where: str) -> GateResult:
            if value is not None and not isinstance(value, bool):
                self.problems.append(
                    (f"{where}.value", f"a gate serves true or false, not {value!r}")
                )
            return result(value is not False, _SPLIT, rule_id)

        def outside_value(value: Any, rule_id: str, where: str) -> GateResult:
            if not isinstance(value, bool):
                self.problems.append((where, f"a gate serves true or false, not {value!r}"))
            return result(value is True, _SPLIT, rule_id)

        serving = Serving(hit, variant, lambda rid: result(False, _SPLIT, rid), outside_value)
        rules = self.rule_compiler.rules(self.flag(path, name, gate), gate.rules, serving)
        overrides: dict[str, GateResult] = {}
        if gate.overrides:
            forced = {value: result(value, _MATCH, "override") for value in (True, False)}
            overrides = {unit: forced[value] for unit, value in gate.overrides.items()}
        disabled = None
        if not gate.enabled:
            disabled = GateResult(
                name=name, value=gate.off, reason=Reason.DISABLED, provider=PROVIDER
            )
        return CompiledGate(name, rules, overrides, disabled)

    def value_serving(self, result: Callable[..., Any], default: Any) -> Serving:
        """Serving for configs and experiments: values (and groups) from the rules."""

        def hit(rule: Any, rule_id: str, where: str) -> Any:
            pct = rule.pass_percentage
            plain = (pct is None or pct >= 100) and rule.range is None and not rule.filters
            group = getattr(rule, "group", None)
            value = rule.value
            if group is not None:
                return result(
                    _MATCH, rule_id, group=group, value=self.group_value(group, value, where)
                )
            if value is None and "value" not in rule.model_fields_set:
                self.problems.append(
                    (
                        f"{where}.value",
                        "missing: a rule serves a value, a group or a split; add one of them",
                    )
                )
            served = self.serve(value, f"{where}.value")
            return result(_MATCH if plain else _SPLIT, rule_id, value=served)

        def variant(value: Any, group: str | None, rule_id: str, where: str) -> Any:
            served = self.group_value(group, value, where)
            return result(_SPLIT, rule_id, value=served, group=group, in_experiment=True)

        def outside_value(value: Any, rule_id: str, where: str) -> Any:
            return result(_SPLIT, rule_id, value=self.serve(value, where))

        return Serving(hit, variant, lambda rid: result(_SPLIT, rid, value=default), outside_value)

    def group_value(self, group: str | None, value: Any, where: str) -> Any:
        """A variant's value: its own, else its experiment group's (when it names one)."""
        if value is not None or group is None:
            return self.serve(value, f"{where}.value")
        known = self.groups_in_scope
        if group not in known:
            if known:
                self.problems.append(
                    (
                        f"{where}.group",
                        f"group {group!r} is not a group of this experiment; use "
                        + ", ".join(map(repr, known)),
                    )
                )
            return None
        return known[group]

    def config(self, name: str, config: ConfigDef) -> CompiledConfig:
        path = f"configs.{name}"
        default_value = self.serve(config.default, f"{path}.default")
        self.groups_in_scope = {}

        def result(reason: Reason, rule_id: str, value: Any, **_: Any) -> ConfigResult:
            return ConfigResult(
                name=name, value=value, reason=reason, rule_id=rule_id, provider=PROVIDER
            )

        serving = self.value_serving(result, default_value)
        rules = self.rule_compiler.rules(self.flag(path, name, config), config.rules, serving)
        default = ConfigResult(name=name, value=default_value, reason=_DEFAULT, provider=PROVIDER)
        disabled = None
        if not config.enabled:
            off = default_value if config.off is None else self.serve(config.off, f"{path}.off")
            disabled = ConfigResult(name=name, value=off, reason=Reason.DISABLED, provider=PROVIDER)
        return CompiledConfig(name, rules, default, disabled)

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
        if exp.groups and abs(total - 100) > WEIGHT_TOLERANCE:
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
        default_value = self.serve(exp.default, f"{path}.default")

        def result(reason: Reason, **kw: Any) -> ExperimentResult:
            return ExperimentResult(name=name, reason=reason, provider=PROVIDER, **kw)

        groups = tuple(
            result(
                _SPLIT,
                group=g.name,
                value=self.serve(g.value, join_path(path, "groups", i, "value")),
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
        self.groups_in_scope = {g.group: g.value for g in groups if g.group is not None}

        def rule_result(reason: Reason, rule_id: str, value: Any, **kw: Any) -> ExperimentResult:
            return result(reason, rule_id=rule_id, value=value, **kw)

        rules: tuple[Any, ...] = ()
        # GrowthBook uses a fallback attribute only for experiments it buckets stickily.
        fallback_unit = exp.fallback_unit if exp.sticky is not False else None
        switch = FallbackSwitch() if fallback_unit is not None or has_fallback(exp) else None
        if exp.rules:
            serving = self.value_serving(rule_result, default_value)
            serving = Serving(serving.hit, serving.variant, lambda _: not_in, serving.value)
            flag = self.flag(path, name, exp)
            if switch is not None:
                flag = flag._replace(fallback=(fallback_unit, switch))
            rules = self.rule_compiler.rules(flag, exp.rules, serving)
        compiled = CompiledExperiment(
            rules=rules,
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
            fallback_unit=fallback_unit,
            fallback_switch=switch,
        )
        compiled.sticky = sticky_policy(
            exp, path, self.problems, not_in, rules, mode, groups=groups, name=name
        )
        return compiled

    # -- the whole file -------------------------------------------------------------
    def run(self, source: str) -> Snapshot:
        gates = {n: self.gate(n, g) for n, g in self.defs.gates.items()}
        self.gate_table.update(gates)
        experiments = {n: self.experiment(n, e) for n, e in self.defs.experiments.items()}
        configs = {n: self.config(n, c) for n, c in self.defs.configs.items()}
        self.rule_compiler.check_cycles()
        values = self.rule_compiler.flag_value
        flags: list[CompiledGate | CompiledExperiment | CompiledConfig] = [
            *gates.values(),
            *experiments.values(),
            *configs.values(),
        ]
        for flag in flags:
            values[flag.name] = _value_of(flag)
        self.rule_compiler.bind({flag.name: flag for flag in flags})
        return Snapshot(
            # Plain dicts, never modified after this point: the hot path is one
            # dict lookup (a read-only proxy would add ~40 ns to every evaluation).
            gates=gates,
            experiments=experiments,
            configs=configs,
            source=source,
            definitions=self.defs,
            segments=MappingProxyType(self.segments),
            conditions=self.options,
            hash=self.mode,
            ready=True,
            names=FlagNames(frozenset(gates), frozenset(experiments), frozenset(configs)),
        )


def _value_of(flag: CompiledGate | CompiledExperiment | CompiledConfig) -> Callable[[Any], Any]:
    evaluate = flag.evaluate

    def value(user: Any) -> Any:
        return evaluate(user).value

    return value


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
