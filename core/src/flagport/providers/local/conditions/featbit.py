"""The ``featbit`` matching semantics: every value compared as text, as FeatBit does.

FeatBit's SDK keeps user properties as strings and compares them as such
(``fbclient``'s evaluator). A flagport value becomes the text the FeatBit provider
sends (:func:`featbit_text`: ``true``, ``1.5``, lists as JSON); a missing attribute
fails every test but the negated ones:

- ``$eq``/``$ne`` compare texts (``{"n": {"$eq": 1}}`` matches ``"1"``); ``true`` /
  ``false`` match their text in any case (FeatBit's ``IsTrue``/``IsFalse``);
- ``$lt $lte $gt $gte`` compare numbers when both texts are numbers, rounded to 5
  decimals;
- ``$in``/``$nin`` (``IsOneOf``), ``$contains``/``$notContains``, ``$startsWith``,
  ``$endsWith``, ``$regex``/``$notRegex`` read the text, case-sensitive.

Field names are looked up as written; ``key``/``keyid`` mean the user id and custom ids
are properties too (the provider sends them so).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from flagport.providers.local.conditions.options import ConditionError
from flagport.providers.local.conditions.values import Predicate, negate, vendor_operator
from flagport.providers.local.featbit_view import (
    featbit_properties,
    featbit_property,
    featbit_text,
)

if TYPE_CHECKING:
    from flagport.providers.local.conditions.operators import Operator, ValueCompiler
    from flagport.user import User

__all__ = [
    "FEATBIT_CLAUSES",
    "FEATBIT_OPERATORS",
    "featbit_condition",
    "featbit_field",
    "featbit_segment",
    "featbit_text",
]

#: FeatBit's clause operators -> the flags file's (under ``semantics: featbit``).
FEATBIT_CLAUSES: dict[str, str] = {
    "Equal": "$eq", "NotEqual": "$ne", "BiggerThan": "$gt", "BiggerEqualThan": "$gte",
    "LessThan": "$lt", "LessEqualThan": "$lte", "Contains": "$contains",
    "NotContain": "$notContains", "IsOneOf": "$in", "NotOneOf": "$nin",
    "StartsWith": "$startsWith", "EndsWith": "$endsWith", "MatchRegex": "$regex",
    "NotMatchRegex": "$notRegex",
}  # fmt: skip
_NEVER: dict[str, Any] = {"$not": {}}


def _number(text: str) -> float | None:
    try:
        return round(float(text), 5)  # FeatBit: float(str(value)), rounded
    except (ValueError, OverflowError):
        return None


def featbit_field(key: str) -> Callable[[Mapping[str, Any], User], str | None]:
    """How FeatBit finds a property: its key and name fields, then the others."""
    lowered = key.lower()

    def lookup(attributes: Mapping[str, Any], user: User) -> str | None:
        if lowered in ("key", "keyid"):
            return user.user_id
        if lowered == "name":  # the display name: custom "name", else the user id
            return featbit_property(featbit_properties(user), "name")
        if key in user.custom_ids:
            return user.custom_ids[key]
        value = attributes.get(key)
        # The provider sends FeatBit no property for a None value: it is missing.
        return None if value is None else featbit_text(value)

    return lookup


def _text_arg(op: str, arg: Any, path: str) -> str:
    if isinstance(arg, Mapping | list | tuple) or arg is None:
        raise ConditionError(path, f"{op} takes a string, number or boolean, got {arg!r}")
    return featbit_text(arg)


def op_eq(compiler: ValueCompiler, op: str, arg: Any, path: str) -> Predicate:
    if isinstance(arg, bool):
        wanted = "true" if arg else "false"
        test: Predicate = lambda v: v is not None and featbit_text(v).lower() == wanted  # noqa: E731
    else:
        text = _text_arg(op, arg, path)
        test = lambda v: v is not None and featbit_text(v) == text  # noqa: E731
    return test if op == "$eq" else negate(test)


_ORDER: dict[str, Callable[[float, float], bool]] = {
    "$lt": float.__lt__, "$lte": float.__le__, "$gt": float.__gt__, "$gte": float.__ge__,
}  # fmt: skip


def op_order(compiler: ValueCompiler, op: str, arg: Any, path: str) -> Predicate:
    target = _number(_text_arg(op, arg, path))
    if target is None:
        raise ConditionError(path, f"{op} compares with a number, got {arg!r}")
    holds = _ORDER[op]
    return lambda v: (
        v is not None and (n := _number(featbit_text(v))) is not None and holds(n, target)
    )


def op_in(compiler: ValueCompiler, op: str, arg: Any, path: str) -> Predicate:
    if op not in ("$in", "$nin") or not isinstance(arg, list | tuple):
        raise ConditionError(path, f"{op}: FeatBit's IsOneOf takes a list ($in / $nin)")
    wanted = frozenset(_text_arg(op, item, path) for item in arg)
    test: Predicate = lambda v: v is not None and featbit_text(v) in wanted  # noqa: E731
    return test if op == "$in" else negate(test)


_STRING_OPS: dict[str, Callable[[str, str], bool]] = {
    "$contains": str.__contains__, "$notContains": str.__contains__,
    "$startsWith": str.startswith, "$endsWith": str.endswith,
}  # fmt: skip


def op_string(compiler: ValueCompiler, op: str, arg: Any, path: str) -> Predicate:
    holds = vendor_operator(_STRING_OPS, op, "FeatBit", path)
    text = _text_arg(op, arg, path)
    test: Predicate = lambda v: v is not None and holds(featbit_text(v), text)  # noqa: E731
    return negate(test) if op == "$notContains" else test


def op_regex(compiler: ValueCompiler, op: str, arg: Any, path: str) -> Predicate:
    from flagport.providers.local.conditions.operators import ValueCompiler

    if op not in ("$regex", "$notRegex"):
        raise ConditionError(path, f"{op} is not a FeatBit operator; use $regex or $notRegex")
    matches = ValueCompiler.op_regex(compiler, "$regex", arg, path)
    test: Predicate = lambda v: v is not None and matches(featbit_text(v))  # noqa: E731
    return negate(test) if op == "$notRegex" else test


FEATBIT_OPERATORS: dict[str, Operator] = {
    **dict.fromkeys(("$eq", "$ne"), op_eq),
    **dict.fromkeys(("$lt", "$lte", "$gt", "$gte"), op_order),
    **dict.fromkeys(("$in", "$nin", "$ini", "$nini"), op_in),
    **dict.fromkeys(_STRING_OPS, op_string),
    **dict.fromkeys(("$regex", "$regexi", "$notRegex", "$notRegexi"), op_regex),
}


def featbit_condition(clause: Mapping[str, Any]) -> dict[str, Any] | None:
    """One FeatBit rule clause (``property``, ``op``, ``value``) as a flags-file condition.

    Segment clauses (``User is in segment``) become ``$inSegment`` tests of the
    segments named by their ids (any of them). A clause FeatBit can never satisfy (a
    number comparison with text) is ``{"$not": {}}``.

    :returns: the condition, or None for an operator FeatBit does not have.
    """
    op, prop, value = clause.get("op"), clause.get("property"), clause.get("value")
    if not op and prop in ("User is in segment", "User is not in segment"):
        op = prop
    if op in ("User is in segment", "User is not in segment"):
        try:
            ids = json.loads(value) if isinstance(value, str) else None
        except ValueError:
            ids = None
        if not isinstance(ids, list) or not ids:
            return _NEVER if op == "User is in segment" else {}
        either = {"$or": [{"$inSegment": str(i)} for i in ids]}
        return either if op == "User is in segment" else {"$not": either}
    if not isinstance(prop, str):
        return None
    if op in ("IsTrue", "IsFalse"):
        return {"$attributes": {prop: {"$eq": op == "IsTrue"}}}
    mapped = FEATBIT_CLAUSES.get(str(op))
    if mapped is None:
        return None
    target: Any = value
    if mapped in ("$in", "$nin"):
        try:
            target = json.loads(value) if isinstance(value, str) else None
        except ValueError:
            target = None
        if not isinstance(target, list):
            return _NEVER if mapped == "$in" else {}  # FeatBit: an unreadable list fails
        target = [featbit_text(item) for item in target]
    elif value is None:
        return {} if mapped in ("$ne", "$notContains", "$notRegex") else _NEVER
    elif mapped in ("$gt", "$gte", "$lt", "$lte") and _number(featbit_text(value)) is None:
        return _NEVER
    return {"$attributes": {prop: {mapped: target}}}


def featbit_segment(segment: Mapping[str, Any]) -> dict[str, Any]:
    """A FeatBit segment as a flags-file segment (``SegmentDef`` fields).

    FeatBit puts a user whose key is ``excluded`` out, one ``included`` in, and
    otherwise matches its rules (any rule, all of its clauses).
    """
    rules = []
    for rule in segment.get("rules") or ():
        clauses = [featbit_condition(c) for c in rule.get("conditions") or ()]
        rules.append({"$and": [c if c is not None else _NEVER for c in clauses]})
    found: dict[str, Any] = {
        "included": [str(u) for u in segment.get("included") or ()],
        "excluded": [str(u) for u in segment.get("excluded") or ()],
    }
    if rules:
        found["when"] = {"$or": rules}
    return found
