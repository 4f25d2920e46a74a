"""Values as the condition language sees them: JSON types, paths, literals, sets.

GrowthBook's SDKs define the rules (checked by the differential tests): a literal
matches only a value of the same JSON type, strings order by UTF-16 code units,
lists and objects compare deeply with object keys in JavaScript property order.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping, Sequence
from typing import Any

Predicate = Callable[[Any], bool]
"""A test on one value (an attribute's, or an element of a list)."""

# -- JSON-type rules ---------------------------------------------------------------


NUMBER = (int, float)


def is_number(value: Any) -> bool:
    return isinstance(value, NUMBER) and not isinstance(value, bool)


def type_of(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list | tuple):
        return "array"
    if isinstance(value, Mapping):
        return "object"
    return "unknown"


def is_array_index(key: str, length: int) -> bool:
    # Canonical indices only ("0", "12"; not "01" or "-0"), like JavaScript own keys.
    return (
        len(key) <= 10
        and key.isascii()
        and key.isdigit()
        and (key == "0" or key[0] != "0")
        and int(key) < length
    )


def js_key_order(obj: Mapping[Any, Any]) -> list[Any]:
    # JavaScript lists integer-like keys first, ascending, then the rest in insertion order.
    indices = [k for k in obj if isinstance(k, str) and is_array_index(k, 2**32 - 1)]
    others = [k for k in obj if not (isinstance(k, str) and is_array_index(k, 2**32 - 1))]
    return sorted(indices, key=int) + others


def json_value(value: Any) -> Any:
    # JSON.stringify, which GrowthBook's deep equality mirrors, writes NaN/Infinity as null.
    if isinstance(value, float) and (value != value or value in (float("inf"), float("-inf"))):
        return None
    return value


def deep_equal(a: Any, b: Any) -> bool:
    kind = type_of(a)
    if kind != type_of(b):
        return False
    if kind == "array":
        return len(a) == len(b) and all(
            deep_equal(json_value(x), json_value(y)) for x, y in zip(a, b, strict=True)
        )
    if kind == "object":
        return js_key_order(a) == js_key_order(b) and all(
            deep_equal(json_value(a[k]), json_value(b[k])) for k in a
        )
    return bool(a == b)


def get_path(value: Any, segments: Sequence[str]) -> Any:
    for segment in segments:
        if isinstance(value, Mapping):
            if segment not in value:
                return None
            value = value[segment]
        elif isinstance(value, list | tuple):
            if segment == "length":
                value = len(value)
            elif is_array_index(segment, len(value)):
                value = value[int(segment)]
            else:
                return None
        else:
            return None
    return value


def utf16(text: str) -> bytes:
    return text.encode("utf-16-be", "surrogatepass")


# -- small combinators -------------------------------------------------------------


def always(result: bool) -> Predicate:
    return lambda _value: result


def all_of(predicates: Sequence[Predicate]) -> Predicate:
    if not predicates:
        return always(True)
    if len(predicates) == 1:
        return predicates[0]
    if len(predicates) == 2:
        first, second = predicates
        return lambda value: first(value) and second(value)
    chain = tuple(predicates)

    # Plain loops rather than all()/any(): no generator per evaluation on the hot path.
    def all_of(value: Any) -> bool:
        for predicate in chain:  # noqa: SIM110
            if not predicate(value):
                return False
        return True

    return all_of


def any_of(predicates: Sequence[Predicate]) -> Predicate:
    if len(predicates) == 1:
        return predicates[0]
    chain = tuple(predicates)

    def any_of(value: Any) -> bool:
        for predicate in chain:  # noqa: SIM110
            if predicate(value):
                return True
        return False

    return any_of


def negate(predicate: Predicate) -> Predicate:
    return lambda value: not predicate(value)


def join(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key


def suggest(name: str, known: Sequence[str]) -> str:
    from flagport.suggest import closest_name  # and difflib: only for a typo

    close = closest_name(name, known)
    return f"; did you mean {close}?" if close else ""


# -- literals and membership -------------------------------------------------------


def equals(expected: Any, *, insensitive: bool = False) -> Predicate:
    """Literal equality with GrowthBook's type rules."""
    if isinstance(expected, str):
        if insensitive:
            lowered = expected.lower()
            return lambda value: isinstance(value, str) and value.lower() == lowered
        return lambda value: value == expected
    if expected is None:
        return lambda value: value is None
    if isinstance(expected, bool):
        return lambda value: value is expected
    if isinstance(expected, int | float):
        # Equality first: it fails fast for the usual non-matching or missing value.
        return lambda value: (
            value == expected and not isinstance(value, bool) and isinstance(value, NUMBER)
        )
    return lambda value: deep_equal(expected, value)


def strict_equals(expected: Any) -> Predicate:
    """JavaScript ``===`` between two separately parsed values: containers never match."""
    if type_of(expected) in ("array", "object"):
        return always(False)
    return equals(expected)


def membership(values: Collection[Any], *, insensitive: bool) -> Predicate:
    """``$in``: the value, or any element of a list value, is one of ``values``."""
    scalars: set[Any] = set()
    booleans: set[bool] = set()
    for item in values:
        if isinstance(item, bool):
            booleans.add(item)
        elif isinstance(item, str):
            scalars.add(item.lower() if insensitive else item)
        elif item is None or is_number(item):
            scalars.add(item)
        # A list or object is never === to anything, so it can never be found.

    # Booleans are kept apart because Python's True == 1 is not JavaScript's.
    def contains(item: Any) -> bool:
        if isinstance(item, bool):
            return item in booleans
        if isinstance(item, str):
            return (item.lower() if insensitive else item) in scalars
        if item is None or isinstance(item, int | float):
            return item in scalars
        return False

    def member(value: Any) -> bool:
        if isinstance(value, list | tuple):
            return any(contains(item) for item in value)
        return contains(value)

    if not insensitive and not booleans and all(isinstance(s, str) for s in scalars):
        # The common case, a list of strings: a set lookup guarded by a type check.
        strings = frozenset(scalars)
        return lambda value: (
            value in strings
            if isinstance(value, str)
            else isinstance(value, list | tuple) and member(value)
        )
    return member


def vendor_operator(table: Mapping[str, Any], op: str, vendor: str, path: str) -> Any:
    """The implementation of ``op`` in a vendor's table, or a located refusal."""
    from flagport.providers.local.conditions.options import ConditionError

    found = table.get(op)
    if found is None:
        raise ConditionError(path, f"{op} is not a {vendor} operator; use {', '.join(table)}")
    return found
