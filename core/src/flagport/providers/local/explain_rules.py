"""The rule-by-rule part of ``flagport explain``: prerequisites, condition, bucket
against its range, and where a unit outside the rollout goes.

It follows :func:`~flagport.providers.local.rule_eval.first_match` step by step on the
same compiled rules, so the story takes the path the evaluator takes.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from flagport.providers.local.rule_eval import DEFAULT, NEXT, Rule, Selector

if TYPE_CHECKING:
    from flagport.providers.local.explain import Explanation
    from flagport.providers.local.rule_models import RuleDef
    from flagport.user import User

__all__ = ["explain_rules"]

When = Callable[["Explanation", Any, Any, "User", Any], bool]
Rollout = Callable[["Explanation", Any, "User"], bool]


def _prerequisites(out: Explanation, rule: Rule, user: User) -> str | None:
    """'next' or 'gated' when a prerequisite fails, else None."""
    for prerequisite in rule.prerequisites or ():
        value = prerequisite.value_of(user)
        holds = prerequisite.holds(user)
        kind = " (gating)" if prerequisite.gate else ""
        verdict = "holds" if holds else "fails"
        out.add(1, f"prerequisite {prerequisite.flag!r}{kind}: value {value!r} {verdict}", holds)
        if not holds:
            return "gated" if prerequisite.gate else "next"
    return None


def _selected(out: Explanation, select: Selector, user: User) -> bool:
    unit = select.unit(user)
    if unit is None:
        out.add(1, "unit: missing - outside", False)
        return False
    for number, bucket_set in enumerate(select.filters):
        inside = bucket_set.holds(user)
        out.add(
            1, f"filters[{number}] seed {bucket_set.seed!r}: {'in' if inside else 'out'}", inside
        )
        if not inside:
            return False
    index = select.index(user)
    shown = f"unit {unit!r}"
    if select.position is not None:
        shown += f": bucket {select.position(unit):.4f}"
    if select.ranges:
        shown += " against " + ", ".join(f"[{a:g}, {b:g})" for a, b in select.ranges)
    outcome = select.outcomes[index] if index >= 0 else None
    if index < 0:
        out.add(1, f"{shown} - outside", False)
    elif outcome is NEXT:
        out.add(1, f"{shown} - variant {index} passes through to the next rule", False)
    else:
        out.add(1, f"{shown} - variant {index}", True)
    return index >= 0 and outcome is not NEXT


def explain_rules(
    out: Explanation,
    definitions: Sequence[RuleDef],
    rules: tuple[Rule, ...],
    user: User,
    options: Any,
    when: When,
    rollout: Rollout,
) -> bool:
    """Explain ``rules`` for ``user``; True when a rule decided (else the default)."""
    index = 0
    while index < len(rules):
        rule, definition = rules[index], definitions[index]
        out.add(0, f"rules[{index}] id={rule.id!r}")
        index += 1
        failed = _prerequisites(out, rule, user)
        if failed == "gated":
            out.add(0, "a gating prerequisite failed: the default is served")
            return True
        if failed == "next" or not when(out, definition.when, rule.when, user, options):
            continue
        if rule.select is not None:
            served = _selected(out, rule.select, user)
        elif rule.percentage is None:
            out.add(1, "no rollout: the rule decides", True)
            served = True
        else:
            served = rollout(out, rule.percentage, user)
        if served:
            if index < len(rules):
                out.add(0, f"{len(rules) - index} later rule(s) not evaluated")
            return True
        miss = rule.miss
        if miss is NEXT:
            out.add(1, "outside: falls through to the next rule")
            continue
        if type(miss) is int:
            out.add(1, f"outside: continues at rules[{miss}]")
            index = miss
            continue
        shown = "the default" if miss is DEFAULT else f"{getattr(miss, 'value', miss)!r}"
        out.add(1, f"outside: {shown} is served; later rules are not tried")
        return True
    out.add(0, "no rule decided: the default is served")
    return False
