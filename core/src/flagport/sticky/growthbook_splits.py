"""An experiment's sticky splits under GrowthBook's rules, built from its definition
and compiled rules (see :mod:`flagport.sticky.growthbook`)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from flagport.providers.local.rule_eval import NEXT, first_match
from flagport.sticky.growthbook import GrowthBookSplit
from flagport.sticky.units import attribute_unit, checked_minimum

if TYPE_CHECKING:
    from flagport.results import ExperimentResult
    from flagport.sticky.policy import StickyPolicy
    from flagport.user import User

__all__ = ["growthbook_splits"]


def growthbook_splits(
    exp: Any,
    policy: StickyPolicy,
    key: str,
    rules: Sequence[Any],
    groups: Sequence[ExperimentResult],
    not_in: ExperimentResult | None,
    mode: str,
    problems: tuple[str, list[tuple[str, str]]],
) -> tuple[GrowthBookSplit, ...]:
    """Every sticky split of ``exp``, in rule order: the first rule with a ``split``
    under the experiment's fields (``key``, the policy's versions, ``fallback_unit``
    when the rule names no unit of its own), a later one under its ``split.sticky``;
    the experiment's ``groups`` when no rule has a split.

    :param problems: the experiment's path, and the list its located problems go to.
    """
    found: list[GrowthBookSplit] = []
    compiled = tuple(rules)
    definitions = list(exp.rules or ())[: len(compiled)]
    for at, (definition, rule) in enumerate(zip(definitions, compiled, strict=True)):
        split, select = definition.split, rule.select
        if split is None or select is None:
            continue
        own = split.sticky
        unit = definition.unit or exp.unit
        if own:
            where = f"{problems[0]}.rules[{at}].split.sticky.min_bucket_version"
            minimum = checked_minimum(
                own.bucket_version, own.min_bucket_version, where, problems[1]
            )
            fields = (own.key, own.bucket_version, minimum, True, own.fallback_unit)
        elif own is False or not found:
            fallback = exp.fallback_unit if definition.unit is None else None
            enabled = own is not False and policy.sticky
            version, minimum = policy.version, policy.min_version
            fields = (key, version, minimum, enabled, fallback if enabled else None)
        else:
            continue  # a later split stating nothing is bucketed afresh
        names = tuple(v.group or str(i) for i, v in enumerate(split.variants))
        found.append(
            _split(
                at, fields, unit, mode, names,
                tuple(v.passthrough for v in split.variants),
                tuple(None if o is NEXT else o for o in select.outcomes),
                # A forced variation is never stored: nothing is bucketed afresh.
                None if select.force is not None else select.index,
                _later(compiled, at + 1, not_in),
                _reaches(rule, definition),
                select.force,
            )
        )  # fmt: skip
    if found or not groups:
        return tuple(found)
    fields = (key, policy.version, policy.min_version, policy.sticky, exp.fallback_unit)
    names = tuple(g.group or str(i) for i, g in enumerate(groups))
    blocked = not_in if not_in is not None else groups[0]
    return (
        _split(
            len(compiled), fields, exp.unit, mode, names, (False,) * len(groups),
            tuple(groups), None, lambda user: blocked, None,
        ),
    )  # fmt: skip


def _split(
    at: int,
    fields: tuple[str, int, int, bool, str | None],
    unit: str,
    mode: str,
    groups: tuple[str, ...],
    passthrough: tuple[bool, ...],
    outcomes: tuple[Any, ...],
    fresh: Callable[[User], int] | None,
    after: Callable[[User], ExperimentResult],
    reaches: Callable[[User], bool] | None,
    force: int | None = None,
) -> GrowthBookSplit:
    key, version, minimum, enabled, fallback = fields
    return GrowthBookSplit(
        index=at,
        key=key,
        version=version,
        min_version=minimum,
        enabled=enabled,
        unit=unit,
        fallback_unit=fallback,
        unit_of=_reader(unit, mode),
        fallback_of=None if fallback is None else _reader(fallback, mode),
        groups=groups,
        passthrough=passthrough,
        outcomes=outcomes,
        fresh=fresh,
        after=after,
        reaches=reaches,
        force=force,
    )


def _reader(unit: str, mode: str) -> Callable[[User], str | None]:
    """user -> the text of ``unit`` as the split hashes it."""
    found = attribute_unit(unit, mode)
    if found is not None:
        return found

    def read(user: User) -> str | None:
        return user.unit(unit)

    return read


def _later(
    rules: tuple[Any, ...], start: int, not_in: ExperimentResult | None
) -> Callable[[User], ExperimentResult]:
    """user -> what the rules from ``start`` on serve (GrowthBook goes on with the next
    rule when a unit is not enrolled or passes through), else ``not_in``."""

    def later(user: User) -> ExperimentResult:
        return first_match(rules, user, not_in, not_in, start)  # type: ignore[no-any-return]

    return later


def _reaches(rule: Any, definition: Any) -> Callable[[User], bool] | None:
    """user -> whether a compiled rule's targeting holds (None: always): its
    prerequisites, its condition and the filters that name a unit of their own
    (GrowthBook's filters; a filter on the split's own unit is part of the split, as
    GrowthBook's namespace is, which a stored bucket skips)."""
    checks = tuple(rule.prerequisites or ())
    when = rule.when
    select = rule.select
    # A split rule's selector holds its filters in the order they are written (none for
    # a rule that failed to compile: the file is refused anyway).
    compiled_filters = select.filters if select is not None else ()
    filters = tuple(
        compiled
        for compiled, written in zip(compiled_filters, definition.filters, strict=False)
        if written.unit is not None
    )
    if not checks and when is None and not filters:
        return None

    def reaches(user: User) -> bool:
        for prerequisite in checks:
            if not prerequisite.holds(user):
                return False
        for bucket_set in filters:
            if not bucket_set.holds(user):
                return False
        return when is None or bool(when(user.attributes, user))

    return reaches
