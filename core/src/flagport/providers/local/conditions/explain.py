"""``flagport explain`` for conditions: every part with its own result."""

from __future__ import annotations

import json
from collections.abc import Collection, Mapping
from typing import Any

from flagport.providers.local.conditions.compiler import (
    CONTEXT_KEYS,
    ConditionCompiler,
    check_limits,
)
from flagport.providers.local.conditions.operators import is_operator_object
from flagport.providers.local.conditions.options import ConditionOptions
from flagport.providers.local.conditions.values import get_path, join
from flagport.providers.local.limits import Audit

__all__ = ["explain_condition"]


def explain_condition(
    cond: Mapping[str, Any],
    attributes: Mapping[str, Any],
    segments: Mapping[str, Collection[Any]] | None = None,
    *,
    options: ConditionOptions | None = None,
    user: Any = None,
) -> list[tuple[str, bool]]:
    """Evaluate each part of a condition separately, for ``flagport explain``.

    Parts are listed depth first: every attribute test (one line per operator) and
    every ``$or``/``$and``/``$nor``/``$not`` group with its own result, followed by
    the parts inside it, whose paths are prefixed with the group's (``$or[1].plan``).
    An attribute line ends with the value seen, e.g.
    ``('country $in ["US", "CA"] (got "DE")', False)``. A context test (``$customIds``,
    ``$environment``, ``$now``, a gate or segment reference) is one line.

    :param cond: the condition.
    :param attributes: the flat attribute mapping.
    :param segments: as for :func:`compile_condition` (ignored when ``options`` is given).
    :param options: what the condition was compiled with (semantics, gates, ...).
    :param user: the :class:`~flagport.User`, for context tests.
    :returns: ``(description, matched)`` pairs.
    :raises ConditionError: the condition is malformed.
    """
    from flagport.user import User

    check_limits(cond, "", Audit())
    if options is None:
        options = ConditionOptions(segments=segments or {})
    compiler = ConditionCompiler(options)
    lines: list[tuple[str, bool]] = []
    _explain(compiler, cond, attributes, user if user is not None else User(), "", lines)
    return lines


def _show(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, default=repr)


def _explain(
    compiler: ConditionCompiler,
    cond: Any,
    attributes: Any,
    user: Any,
    prefix: str,
    lines: list[tuple[str, bool]],
) -> None:
    for key, test in compiler.entries(cond, prefix):
        value = cond[key]
        where = join(prefix, key)
        if key in CONTEXT_KEYS:
            lines.append((f"{where} {_show(value)}", test(attributes, user)))
            continue
        if key.startswith("$") and not compiler.options.lenient:
            lines.append((where, test(attributes, user)))
            if key == "$not":
                _explain(compiler, value, attributes, user, where, lines)
            else:
                for i, sub in enumerate(value):
                    _explain(compiler, sub, attributes, user, f"{where}[{i}]", lines)
            continue
        actual = get_path(attributes, key.split("."))
        seen = f"(got {_show(actual)})" if actual is not None else "(missing)"
        if is_operator_object(value) and value:
            for op, arg in value.items():
                check = compiler.operator(op, arg, join(where, op))
                lines.append((f"{where} {op} {_show(arg)} {seen}", check(actual)))
        else:
            lines.append((f"{where} == {_show(value)} {seen}", test(attributes, user)))
