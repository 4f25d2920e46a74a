"""Operators on one attribute's value, with GrowthBook's meaning.

:class:`ValueCompiler` compiles what an attribute must satisfy (a literal or an
operator object) into a one-argument predicate. The Statsig and FeatBit semantics
(:mod:`.statsig`, :mod:`.featbit`) replace some of these operators with their
vendor's, keeping the rest.
"""

from __future__ import annotations

import operator
from collections.abc import Callable, Mapping
from typing import Any

from flagport.providers.local.conditions.options import ConditionError, ConditionOptions
from flagport.providers.local.conditions.segments import Segment, members_test
from flagport.providers.local.conditions.timing import time_test
from flagport.providers.local.conditions.values import (
    Predicate,
    all_of,
    always,
    equals,
    is_number,
    join,
    membership,
    negate,
    strict_equals,
    suggest,
    type_of,
    utf16,
)
from flagport.providers.local.versions import padded_version, padded_version_text

__all__ = ["GROUP_KEYS", "VALUE_OPERATORS", "ValueCompiler"]

COMPARE: dict[str, Callable[[Any, Any], bool]] = {
    "$lt": operator.lt, "$lte": operator.le, "$gt": operator.gt, "$gte": operator.ge,
    "$vlt": operator.lt, "$vlte": operator.le, "$vgt": operator.gt, "$vgte": operator.ge,
    "$veq": operator.eq, "$vne": operator.ne,
}  # fmt: skip
TYPE_NAMES = frozenset({"string", "number", "boolean", "array", "object", "null"})
GROUP_KEYS = frozenset({"$or", "$nor", "$and", "$savedGroup"})
STRING_TESTS: dict[str, Callable[[str, str], bool]] = {
    "$startsWith": str.startswith,
    "$endsWith": str.endswith,
    "$contains": operator.contains,
}
VALUE_OPERATORS = [
    *("$eq", "$ne", "$lt", "$lte", "$gt", "$gte"),
    *("$veq", "$vne", "$vlt", "$vlte", "$vgt", "$vgte"),
    *("$in", "$nin", "$ini", "$nini", "$all", "$alli", "$elemMatch", "$size"),
    *("$exists", "$type", "$not", "$regex", "$regexi", "$notRegex", "$notRegexi"),
    *("$inGroup", "$notInGroup", "$before", "$after", "$on"),
    *("$startsWith", "$startsWithi", "$endsWith", "$endsWithi"),
    *("$contains", "$containsi", "$notContains", "$notContainsi"),
]


def is_operator_object(value: Any) -> bool:
    """Whether a condition value is an operator object (every key starts with ``$``)."""
    return isinstance(value, Mapping) and all(
        isinstance(k, str) and k.startswith("$") for k in value
    )


class ValueCompiler:
    """Compiles the test on one value; subclassed by the condition compiler."""

    def __init__(self, options: ConditionOptions) -> None:
        self.options = options
        self.operators: dict[str, Operator] = OPERATORS

    def value(self, expected: Any, path: str, *, insensitive: bool = False) -> Predicate:
        """Compile what an attribute's value must satisfy: a literal or operators."""
        if is_operator_object(expected):
            # An empty mapping has no operators, so it matches anything (as in GrowthBook).
            return all_of([self.operator(op, arg, join(path, op)) for op, arg in expected.items()])
        return self.literal(expected, insensitive=insensitive)

    def literal(self, expected: Any, *, insensitive: bool = False) -> Predicate:
        """A value that must equal ``expected`` (the vendor's equality)."""
        return equals(expected, insensitive=insensitive)

    def operator(self, op: str, arg: Any, path: str) -> Predicate:
        method = self.operators.get(op)
        if method is not None:
            return method(self, op, arg, path)
        if op in GROUP_KEYS:
            raise ConditionError(
                path, f"{op} combines conditions; use it at condition level, not on a value"
            )
        if self.options.lenient:
            return always(False)  # GrowthBook: an unknown operator never matches
        raise ConditionError(path, f"unknown operator {op}{suggest(op, VALUE_OPERATORS)}")

    def op_eq(self, op: str, arg: Any, path: str) -> Predicate:
        test = strict_equals(arg)
        return test if op == "$eq" else negate(test)

    def op_order(self, op: str, arg: Any, path: str) -> Predicate:
        holds = COMPARE[op]
        if is_number(arg):
            return lambda v: is_number(v) and holds(v, arg)
        if not isinstance(arg, str):
            if self.options.lenient:
                return always(False)
            raise ConditionError(path, f"{op} compares with a number or a string, got {arg!r}")
        # Code points and UTF-16 code units order alike unless both strings leave ASCII.
        arg16 = utf16(arg)
        return lambda v: (
            isinstance(v, str) and (holds(v, arg) if v.isascii() else holds(utf16(v), arg16))
        )

    def op_version(self, op: str, arg: Any, path: str) -> Predicate:
        holds = COMPARE[op]
        want = padded_version(arg)
        if isinstance(arg, str):
            # padded_version without its type dispatch: the operand is a string.
            if op == "$vne":
                return lambda v: not isinstance(v, str) or padded_version_text(v or "0") != want
            return lambda v: isinstance(v, str) and holds(padded_version_text(v or "0"), want)
        if not is_number(arg):
            raise ConditionError(path, f"{op} compares with a version string, got {arg!r}")
        # A number is a version too (2 is "2"), compared only with numbers.
        if op == "$vne":
            return lambda v: not is_number(v) or padded_version(v) != want
        return lambda v: is_number(v) and holds(padded_version(v), want)

    def op_in(self, op: str, arg: Any, path: str) -> Predicate:
        if not isinstance(arg, list | tuple):
            if self.options.lenient:
                return always(False)
            raise ConditionError(path, f"{op} takes a list of values, got {arg!r}")
        test = membership(arg, insensitive=op in ("$ini", "$nini"))
        return test if op in ("$in", "$ini") else negate(test)

    def op_group(self, op: str, arg: Any, path: str) -> Predicate:
        known = self.options.segments
        found = known.get(arg) if isinstance(arg, str) else None
        if found is None and self.options.lenient and isinstance(arg, str):
            found = ()  # GrowthBook reads an unknown saved group as an empty one
        if found is None:
            names = sorted(known)
            hint = suggest(arg, names) if isinstance(arg, str) else ""
            raise ConditionError(
                path,
                f"{op} names a segment, got {arg!r}; defined segments: "
                f"{', '.join(names) or 'none'}{hint}",
            )
        if isinstance(found, Segment):
            if found.members is None:
                raise ConditionError(
                    path,
                    f"segment {arg!r} has rules, not only ids; test it with "
                    f'{{"$inSegment": "{arg}"}} at condition level',
                )
            test = members_test(found, self.options.semantics)
        else:
            test = membership(found, insensitive=False)
        return test if op == "$inGroup" else negate(test)

    def op_all(self, op: str, arg: Any, path: str) -> Predicate:
        if not isinstance(arg, list | tuple):
            raise ConditionError(path, f"{op} takes a list of values, got {arg!r}")
        wanted = tuple(
            self.value(item, f"{path}[{i}]", insensitive=op == "$alli")
            for i, item in enumerate(arg)
        )

        def has_all(value: Any) -> bool:
            if not isinstance(value, list | tuple):
                return False
            for test in wanted:
                for item in value:
                    if test(item):
                        break
                else:
                    return False
            return True

        return has_all

    def op_elem_match(self, op: str, arg: Any, path: str) -> Predicate:
        if not isinstance(arg, Mapping):
            raise ConditionError(path, f"$elemMatch takes a condition mapping, got {arg!r}")
        # Operators test each element itself; anything else tests each element's fields.
        on_value = is_operator_object(arg) and not any(k in GROUP_KEYS for k in arg)
        test = self.value(arg, path) if on_value else self.element_condition(arg, path)

        def elem_match(value: Any) -> bool:
            if not isinstance(value, list | tuple):
                return False
            return any(item is not None and test(item) for item in value)

        return elem_match

    def element_condition(self, cond: Any, path: str) -> Predicate:
        """A condition on the fields of a list element (the condition compiler's)."""
        raise NotImplementedError

    def op_size(self, op: str, arg: Any, path: str) -> Predicate:
        test = self.value(arg, path)
        return lambda v: isinstance(v, list | tuple) and test(len(v))

    def op_exists(self, op: str, arg: Any, path: str) -> Predicate:
        if arg:
            return lambda v: v is not None
        return lambda v: v is None

    def op_type(self, op: str, arg: Any, path: str) -> Predicate:
        if not isinstance(arg, str) or arg not in TYPE_NAMES:
            raise ConditionError(
                path, f"$type is one of {', '.join(sorted(TYPE_NAMES))}, got {arg!r}"
            )
        return lambda v: type_of(v) == arg

    def op_not(self, op: str, arg: Any, path: str) -> Predicate:
        return negate(self.value(arg, path))

    def op_regex(self, op: str, arg: Any, path: str) -> Predicate:
        if not isinstance(arg, str):
            raise ConditionError(path, f"{op} takes a regular expression string, got {arg!r}")
        # Imported with the first pattern: RE2 and the cost parser are a cold start's
        # milliseconds, and most files have no regular expression.
        from flagport.providers.local.regex import RegexError, compile_search

        try:
            matches = compile_search(arg, insensitive=op.endswith("i"))
        except RegexError as exc:
            if self.options.lenient:
                # GrowthBook: a pattern that does not compile never matches ($not...: always).
                return always(op.startswith("$not"))
            raise ConditionError(path, f"invalid regular expression {arg!r}: {exc}") from None
        if op.startswith("$not"):
            return lambda v: not (isinstance(v, str) and matches(v))
        return lambda v: isinstance(v, str) and matches(v)

    def op_time(self, op: str, arg: Any, path: str) -> Predicate:
        return time_test(op, arg, path)

    def op_string(self, op: str, arg: Any, path: str) -> Predicate:
        """``$startsWith``/``$endsWith``/``$contains`` any of a list; ``i`` ignores case."""
        texts = [arg] if isinstance(arg, str) else arg
        if not isinstance(texts, list | tuple) or not all(isinstance(t, str) for t in texts):
            raise ConditionError(path, f"{op} takes a string or a list of strings, got {arg!r}")
        insensitive = op.endswith("i")
        negated = op.startswith("$not")
        name = op.removesuffix("i")
        holds = STRING_TESTS["$contains" if negated else name]
        wanted = tuple(t.lower() for t in texts) if insensitive else tuple(texts)

        def test(value: Any) -> bool:
            if not isinstance(value, str):
                return negated
            text = value.lower() if insensitive else value
            found = any(holds(text, w) for w in wanted)
            return not found if negated else found

        return test


Operator = Callable[[ValueCompiler, str, Any, str], Predicate]
OPERATORS: dict[str, Operator] = {
    **dict.fromkeys(("$eq", "$ne"), ValueCompiler.op_eq),
    **dict.fromkeys(("$lt", "$lte", "$gt", "$gte"), ValueCompiler.op_order),
    **dict.fromkeys(("$veq", "$vne", "$vlt", "$vlte", "$vgt", "$vgte"), ValueCompiler.op_version),
    **dict.fromkeys(("$in", "$nin", "$ini", "$nini"), ValueCompiler.op_in),
    **dict.fromkeys(("$inGroup", "$notInGroup"), ValueCompiler.op_group),
    **dict.fromkeys(("$all", "$alli"), ValueCompiler.op_all),
    "$elemMatch": ValueCompiler.op_elem_match,
    "$size": ValueCompiler.op_size,
    "$exists": ValueCompiler.op_exists,
    "$type": ValueCompiler.op_type,
    "$not": ValueCompiler.op_not,
    **dict.fromkeys(("$regex", "$regexi", "$notRegex", "$notRegexi"), ValueCompiler.op_regex),
    **dict.fromkeys(("$before", "$after", "$on"), ValueCompiler.op_time),
    **dict.fromkeys(
        (
            *("$startsWith", "$startsWithi", "$endsWith", "$endsWithi"),
            *("$contains", "$containsi", "$notContains", "$notContainsi"),
        ),
        ValueCompiler.op_string,
    ),
}
