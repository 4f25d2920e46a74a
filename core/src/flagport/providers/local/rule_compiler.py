"""Rule definitions -> compiled :class:`~.rule_eval.Rule` objects, for every kind of flag.

Each kind says what a rule serves through a :class:`Serving`: the result a plain rule
serves, the result of each split variant, and the result of a miss. Everything else
(prerequisites, conditions, units, seeds, hashes, filters, ranges, splits, what a
unit outside gets) is the same for gates, configs and experiments, and is checked here
with a located problem for each mistake.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from functools import partial
from typing import TYPE_CHECKING, Any, NamedTuple, cast

from flagport.providers.local.bucketing import Bucketer, HashMode, get_bucketer, select_range
from flagport.providers.local.compiled import (
    CompiledConfig,
    CompiledGate,
    Percentage,
    new_memo,
    remember,
)
from flagport.providers.local.rule_eval import (
    _COMPLEX,
    DEFAULT,
    NEXT,
    Filter,
    Prerequisite,
    Rule,
    Selector,
    one_rule_value,
)
from flagport.providers.local.rule_models import OutsideDef, RuleDef, SplitDef
from flagport.providers.local.units import UnitGetter, unit_getter
from flagport.sticky.policy import split_fallback

if TYPE_CHECKING:
    from flagport.providers.local.conditions import Condition
    from flagport.providers.local.limits import Problem
    from flagport.sticky.policy import FallbackSwitch

__all__ = ["WEIGHT_TOLERANCE", "FlagContext", "RuleCompiler", "Serving", "find_cycle"]

#: How far weights may stray from 100 in total (rounding of thirds: 33.33 * 3).
WEIGHT_TOLERANCE = 0.011


# Named tuples, not frozen dataclasses: a file of 10,000 flags builds one of each per
# flag, and a frozen dataclass sets each field through object.__setattr__.
class Serving(NamedTuple):
    """What one kind of flag serves.

    :ivar hit: (rule definition, rule id, path) -> the result a plain rule serves
        (None after a problem was reported).
    :ivar variant: (value or None, group or None, rule id, path) -> a split variant's result.
    :ivar miss: rule id -> the result for a unit outside the rollout (``outside: default``).
    :ivar value: (outside value, rule id, path) -> the result for ``outside: {value: ...}``.
    """

    hit: Callable[[RuleDef, str, str], Any]
    variant: Callable[[Any, str | None, str, str], Any]
    miss: Callable[[str], Any]
    value: Callable[[Any, str, str], Any]


class FlagContext(NamedTuple):
    """A flag's defaults for its rules: unit, seed (salt) and hash, and for a sticky
    experiment its ``fallback_unit`` with the switch that turns it on."""

    name: str
    path: str
    unit: str
    seed: str
    hash: str
    fallback: tuple[str | None, FallbackSwitch] | None = None


def find_cycle(graph: Mapping[str, Sequence[str]]) -> list[str] | None:
    """A cycle in ``graph`` (name -> names it depends on), as a path ``a -> ... -> a``."""
    state: dict[str, int] = {}  # 1 on the current path, 2 finished
    for root in graph:
        if state.get(root):
            continue
        stack: list[tuple[str, int]] = [(root, 0)]
        path: list[str] = [root]
        state[root] = 1
        while stack:
            node, at = stack[-1]
            edges = graph.get(node, ())
            if at == len(edges):
                stack.pop()
                path.pop()
                state[node] = 2
                continue
            stack[-1] = (node, at + 1)
            child = edges[at]
            if state.get(child) == 1:
                return [*path[path.index(child) :], child]
            if child in graph and not state.get(child):
                state[child] = 1
                stack.append((child, 0))
                path.append(child)
    return None


class RuleCompiler:
    """Compiles rules against one file.

    :param condition: (condition, path) -> the compiled condition or None (problem noted).
    :param problems: where problems are appended.
    :param flag_value: name -> (user -> that flag's value), filled once every flag is
        compiled (prerequisites read it late).
    """

    def __init__(
        self,
        condition: Callable[..., Condition | None],
        problems: list[Problem],
        flag_names: Sequence[str],
        *,
        exact_literals: bool = True,
    ) -> None:
        self.condition = condition
        self.exact_literals = exact_literals
        self.prerequisite_list: list[Prerequisite] = []
        self.problems = problems
        self.flag_names = frozenset(flag_names)  # looked up once per prerequisite
        self.flag_value: dict[str, Callable[[Any], Any]] = {}
        self.depends: dict[str, list[str]] = {}
        self.depends_at: dict[tuple[str, str], str] = {}
        self.bucketers: dict[str, Bucketer] = {}

    def bucketer(self, mode: str) -> Bucketer:
        found = self.bucketers.get(mode)
        if found is None:
            found = self.bucketers[mode] = get_bucketer(cast(HashMode, mode))
        return found

    def problem(self, path: str, message: str) -> None:
        self.problems.append((path, message))

    # -- the rules of one flag ---------------------------------------------------------
    def rules(
        self, flag: FlagContext, definitions: Sequence[RuleDef], serving: Serving
    ) -> tuple[Rule, ...]:
        ids = [rule.id or f"rule_{i}" for i, rule in enumerate(definitions)]
        positions: dict[str, int] = {}
        for index, rule_id in enumerate(ids):
            if rule_id in positions:
                self.problem(
                    f"{flag.path}.rules[{index}].id",
                    f"rule id {rule_id!r} is already used by rules[{positions[rule_id]}]; "
                    "give each rule of a flag its own id",
                )
            else:
                positions[rule_id] = index
        return tuple(
            self.rule(flag, rule, rule_id, index, positions, serving)
            for index, (rule_id, rule) in enumerate(zip(ids, definitions, strict=True))
        )

    def rule(
        self,
        flag: FlagContext,
        rule: RuleDef,
        rule_id: str,
        index: int,
        positions: Mapping[str, int],
        serving: Serving,
    ) -> Rule:
        path = f"{flag.path}.rules[{index}]"
        prerequisites = tuple(self.prerequisites(flag, rule, path)) or None
        when = self.condition(rule.when, f"{path}.when", semantics=rule.semantics)
        mode = rule.hash or flag.hash
        bucketer = self.bucketer(mode)
        plain = (
            rule.split is None
            and rule.range is None
            and not rule.filters
            and (rule.pass_percentage is None or rule.pass_percentage >= 100)
        )
        miss = None  # a rule that serves everyone it matches never misses
        if not plain or rule.outside is not None:
            miss = self.outside(rule.outside, rule_id, index, positions, path, serving)
        if plain:  # nothing to hash: the common case of large files, built cheaply
            return Rule(
                rule_id, when, None, serving.hit(rule, rule_id, path), miss,
                prerequisites=prerequisites,
            )  # fmt: skip
        seed = rule.seed or flag.seed
        unit_name = rule.unit or flag.unit
        unit = unit_getter(unit_name, mode, missing_as_empty=rule.missing_unit == "empty")
        filters = [
            Filter(
                self.split_unit(flag, rule, unit_name, f.hash or mode, empty=False)
                if f.unit is None
                else unit_getter(f.unit, f.hash or mode),
                self.bucketer(f.hash or mode),
                f.seed,
                f.ranges,
            )
            for f in rule.filters
        ]
        for number, f in enumerate(rule.filters):
            self.check_ranges(f.ranges, f"{path}.filters[{number}].ranges")
        if rule.split is not None:
            select = self.split(rule.split, rule_id, path, serving, seed, bucketer)
            select.unit = self.split_unit(
                flag, rule, unit_name, mode, empty=rule.missing_unit == "empty"
            )
            select.filters = tuple(filters)
            return Rule(rule_id, when, None, None, miss, select=select, prerequisites=prerequisites)
        hit = serving.hit(rule, rule_id, path)
        if rule.range is not None:
            low, high = rule.range
            self.check_ranges([rule.range], f"{path}.range")
            bounds = ((low, high),)

            def in_range(text: str) -> int:
                position = bucketer.experiment_bucket(seed, text)
                return 0 if select_range(position, bounds) is not None else -1

            select = Selector(
                memo=new_memo(),
                remember=remember,
                unit=unit,
                choose=in_range,
                outcomes=(hit,),
                filters=filters,
                position=partial(bucketer.experiment_bucket, seed),
                ranges=bounds,
            )
            return Rule(rule_id, when, None, hit, miss, select=select, prerequisites=prerequisites)
        pct = 100.0 if rule.pass_percentage is None else float(rule.pass_percentage)
        rule_salt = rule.salt or rule_id
        if filters or rule.missing_unit == "empty":

            def passes(text: str) -> int:
                if pct >= 100:
                    return 0
                return 0 if bucketer.gate_passes(seed, rule_salt, text, pct) else -1

            # Without a percentage nothing is hashed, so no unit is needed (only filters).
            whose = unit if pct < 100 else _anyone
            select = Selector(
                unit=whose,
                choose=passes,
                outcomes=(hit,),
                filters=filters,
                memo=new_memo(),
                remember=remember,
            )
            return Rule(rule_id, when, None, hit, miss, select=select, prerequisites=prerequisites)
        percentage = None
        if pct < 100:
            percentage = Percentage(bucketer, unit_name, seed, rule_salt, pct, getter=unit)
        return Rule(rule_id, when, percentage, hit, miss, prerequisites=prerequisites)

    # -- parts ---------------------------------------------------------------------------
    def split_unit(
        self, flag: FlagContext, rule: RuleDef, name: str, mode: str, *, empty: bool
    ) -> UnitGetter:
        """user -> ``name`` (missing: ``""`` when ``empty``), else, for a sticky split, its
        fallback unit while the client has a sticky store (:func:`split_fallback`)."""
        unit = unit_getter(name, mode, missing_as_empty=empty)
        return split_fallback(flag.fallback, rule, unit, mode)

    def prerequisites(self, flag: FlagContext, rule: RuleDef, path: str) -> list[Prerequisite]:
        found: list[Prerequisite] = []
        for number, prerequisite in enumerate(rule.prerequisites):
            where = f"{path}.prerequisites[{number}]"
            other = prerequisite.flag
            if other not in self.flag_names:
                from flagport.suggest import closest_name  # and difflib: only for a typo

                close = closest_name(other, self.flag_names)
                hint = f"; did you mean {close!r}?" if close else ""
                self.problem(f"{where}.flag", f"no flag named {other!r} in this file{hint}")
                continue
            edges = self.depends.setdefault(flag.name, [])
            if other not in edges:
                edges.append(other)
                self.depends_at[(flag.name, other)] = f"{where}.flag"
            when = self.condition(prerequisite.when, f"{where}.when")
            if when is None:
                continue

            def value_of(user: Any, name: str = other, registry: Any = self.flag_value) -> Any:
                return registry[name](user)

            expected: Any = _COMPLEX
            literal = prerequisite.when.get("value", _COMPLEX)
            if (
                self.exact_literals
                and len(prerequisite.when) == 1
                and isinstance(literal, bool | str)
            ):
                expected = literal
            made = Prerequisite(other, value_of, when, prerequisite.gate, expected)
            self.prerequisite_list.append(made)
            found.append(made)
        return found

    def bind(self, flags: Mapping[str, Any]) -> None:
        """Point every prerequisite at its compiled flag (a direct call, no lookup)."""
        for prerequisite in self.prerequisite_list:
            target = flags.get(prerequisite.flag)
            if target is not None:
                prerequisite.bind(target, direct_value(target))

    def check_cycles(self) -> None:
        """Report one located problem per prerequisite cycle (each flag once)."""
        graph = {name: list(edges) for name, edges in self.depends.items()}
        while (cycle := find_cycle(graph)) is not None:
            first, second = cycle[0], cycle[1]
            self.problem(
                self.depends_at[(first, second)],
                f"prerequisites form a cycle: {' -> '.join(cycle)}; remove one of them",
            )
            graph[first].remove(second)

    def outside(
        self,
        outside: str | OutsideDef | None,
        rule_id: str,
        index: int,
        positions: Mapping[str, int],
        path: str,
        serving: Serving,
    ) -> Any:
        if outside is None or outside == "default":
            return serving.miss(rule_id)
        if outside == "next":
            return NEXT
        assert isinstance(outside, OutsideDef)
        if outside.rule is None:
            return serving.value(outside.value, rule_id, f"{path}.outside.value")
        target = positions.get(outside.rule)
        if target is None or target <= index:
            later = [r for r, i in positions.items() if i > index]
            self.problem(
                f"{path}.outside.rule",
                f"{outside.rule!r} is not a later rule of this flag; use one of "
                f"{', '.join(map(repr, later)) or '(none: this is the last rule)'}",
            )
            return DEFAULT
        return target

    def check_ranges(self, ranges: Sequence[tuple[float, float]], path: str) -> None:
        for number, (low, high) in enumerate(ranges):
            if low > high:
                self.problem(
                    f"{path}[{number}]" if len(ranges) > 1 else path,
                    f"range [{low:g}, {high:g}] ends before it starts; write [start, end) "
                    "with start <= end",
                )

    def split(
        self,
        split: SplitDef,
        rule_id: str,
        path: str,
        serving: Serving,
        seed: str,
        bucketer: Bucketer,
    ) -> Selector:
        variants = split.variants
        outcomes = [
            NEXT
            if v.passthrough
            else serving.variant(v.value, v.group, rule_id, f"{path}.split.variants[{i}]")
            for i, v in enumerate(variants)
        ]
        force = split.force
        if force is not None and force >= len(variants):
            self.problem(
                f"{path}.split.force",
                f"force {force} is not a variant index; use 0..{len(variants) - 1}",
            )
            force = None
        by_weight = [v.weight is not None for v in variants]
        by_range = [v.range is not None or v.ranges is not None for v in variants]
        if all(by_weight) and not any(by_range):
            return self.weighted(split, path, outcomes, force, seed, bucketer)
        if all(by_range) and not any(by_weight):
            return self.ranged(split, path, outcomes, force, seed, bucketer)
        self.problem(
            f"{path}.split.variants",
            "give every variant a weight, or every variant a range/ranges (not a mix)",
        )
        return Selector(unit=_no_unit, choose=_outside, outcomes=outcomes)  # never chooses

    def weighted(
        self,
        split: SplitDef,
        path: str,
        outcomes: list[Any],
        force: int | None,
        seed: str,
        bucketer: Bucketer,
    ) -> Selector:
        weights = tuple(float(v.weight or 0) for v in split.variants)
        total = sum(weights)
        if abs(total - 100) > WEIGHT_TOLERANCE:
            shown = " + ".join(f"{w:g}" for w in weights)
            self.problem(
                f"{path}.split.variants",
                f"variant weights add up to {total:g} ({shown}), not 100; "
                "adjust them so they sum to 100",
            )
        coverage = float(split.coverage)
        choose_group = cast(Any, bucketer).choose_group

        def choose(text: str) -> int:
            return int(choose_group(seed, text, weights, coverage))

        return Selector(
            memo=new_memo(),
            remember=remember,
            unit=_no_unit,
            choose=choose,
            outcomes=outcomes,
            force=force,
            position=partial(bucketer.experiment_bucket, seed),
        )

    def ranged(
        self,
        split: SplitDef,
        path: str,
        outcomes: list[Any],
        force: int | None,
        seed: str,
        bucketer: Bucketer,
    ) -> Selector:
        if split.coverage != 100:
            self.problem(
                f"{path}.split.coverage",
                "coverage applies to weights; with explicit ranges, narrow the ranges instead",
            )
        flat: list[tuple[float, float]] = []
        owner: list[int] = []
        for number, variant in enumerate(split.variants):
            ranges = list(variant.ranges or ()) + ([variant.range] if variant.range else [])
            self.check_ranges(ranges, f"{path}.split.variants[{number}].ranges")
            flat.extend(ranges)
            owner.extend([number] * len(ranges))
        bounds = tuple(flat)
        owners = tuple(owner)

        def choose(text: str) -> int:
            found = select_range(bucketer.experiment_bucket(seed, text), bounds)
            return -1 if found is None else owners[found]

        return Selector(
            memo=new_memo(),
            remember=remember,
            unit=_no_unit,
            choose=choose,
            outcomes=outcomes,
            force=force,
            position=partial(bucketer.experiment_bucket, seed),
            ranges=bounds,
        )


def direct_value(flag: Any) -> Callable[[Any], Any]:
    """user -> ``flag.evaluate(user).value`` for a compiled flag, without building the
    result where the flag's shape allows: a disabled gate or config is a constant, and a
    one-rule one without overrides is its rule (:func:`.one_rule_value`)."""
    if isinstance(flag, CompiledGate | CompiledConfig):
        if flag.disabled is not None:
            disabled = flag.disabled.value
            return lambda user: disabled
        if not getattr(flag, "overrides", None):
            direct = one_rule_value(flag.rules, flag.default.value)
            if direct is not None:
                return direct
    evaluate = flag.evaluate

    def value_of(user: Any) -> Any:
        return evaluate(user).value

    return value_of


def _anyone(user: Any) -> str | None:
    return ""


def _no_unit(user: Any) -> str | None:
    return None


def _outside(text: str) -> int:
    return -1
