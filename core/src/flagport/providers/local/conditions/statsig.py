"""The ``statsig`` matching semantics: values coerced the way Statsig's SDK does.

Statsig's evaluator (``statsig-rust``, which ``statsig_python_core`` runs) looks at
every value through several views at once: its text (numbers written as Rust writes
them, ``true``/``false``, a list as compact JSON), its number (a string that parses as
one counts) and its time. Each operator reads one view:

- ``$eq``/``$ne`` compare the view of the condition's type: ``{"n": {"$eq": 1}}``
  matches ``"1"`` and ``1.0``; ``"1"`` matches ``1``; ``null`` matches a missing value;
- ``$lt $lte $gt $gte`` compare numbers (``"10" > 9``);
- ``$veq``.. compare versions: the part before the first ``-`` split on ``.``, each
  part a whole number, missing parts 0 (``1.2`` == ``1.2.0``; ``1.2.3-beta`` ==
  ``1.2.3``); a part that is not a number fails the test;
- ``$in``/``$nin`` compare text exactly, ``$ini``/``$nini`` ignoring case (Statsig's
  ``any_case_sensitive``/``any``); a missing value is the empty text;
- a list given to a case-sensitive test (``$in $nin $hasAny $hasNone $hasAll
  $lacksAny``) keeps one text per lower-case spelling, the last: Statsig files the list
  under lower-case keys, so ``{"$in": ["pro", "PRO"]}`` matches ``"PRO"`` only;
- ``$startsWithi $endsWithi $containsi $notContainsi`` (Statsig's ``str_*_any``)
  and ``$regex`` read the text;
- ``$hasAny $hasNone $hasAll $lacksAny`` test a list attribute's elements (as text)
  against the list given (``array_contains_*``).

Attribute names are looked up as written, then in lower case; ``user_id``,
``email`` ... (or Statsig's ``userID``, ``appVersion`` ...) read the user's fields.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from flagport.providers.local.conditions.options import ConditionError
from flagport.providers.local.conditions.values import Predicate, negate, vendor_operator

if TYPE_CHECKING:
    from flagport.providers.local.conditions.operators import Operator, ValueCompiler
    from flagport.user import User

__all__ = ["STATSIG_OPERATORS", "statsig_field", "statsig_number", "statsig_string"]

_FLOAT = re.compile(
    r"[+-]?(?:(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?|inf|infinity|nan)", re.ASCII | re.IGNORECASE
)
_WHOLE = re.compile(r"[+-]?\d+", re.ASCII)
# Statsig's names of the user's own fields (lower case) -> flagport's.
_USER_FIELDS = {
    "userid": "user_id", "email": "email", "ip": "ip", "country": "country",
    "locale": "locale", "appversion": "app_version", "useragent": "user_agent",
}  # fmt: skip
_ALT_FIELDS = {"user_id": "user_id", "app_version": "app_version", "user_agent": "user_agent"}


def _rust_float_text(x: float) -> str:
    """``f64::to_string``: shortest round-trip digits, never in exponent form."""
    if math.isnan(x):
        return "NaN"
    if math.isinf(x):
        return "inf" if x > 0 else "-inf"
    if x == int(x) and abs(x) < 1e16:
        return str(int(x)) if x != 0 or math.copysign(1, x) > 0 else "-0"
    text = repr(x)
    if "e" not in text:
        return text
    mantissa, _, exponent = text.partition("e")
    sign = "-" if mantissa.startswith("-") else ""
    whole, _, fraction = mantissa.lstrip("-").partition(".")
    digits = whole + fraction
    point = len(whole) + int(exponent)
    if point <= 0:
        return f"{sign}0.{'0' * -point}{digits.rstrip('0')}"
    if point >= len(digits):
        return sign + digits + "0" * (point - len(digits))
    return f"{sign}{digits[:point]}.{digits[point:]}"


def statsig_string(value: Any) -> str | None:
    """The text view of a value (None for null and objects)."""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return _rust_float_text(float(value)) if abs(value) < 2**1023 else str(value)
    if isinstance(value, float):
        return _rust_float_text(value)
    if isinstance(value, list | tuple):
        try:
            return json.dumps(value, separators=(",", ":"), ensure_ascii=False, allow_nan=False)
        except (TypeError, ValueError):
            return None
    return None


def statsig_number(value: Any) -> float | None:
    """The number view of a value: a number, or a string Rust parses as ``f64``."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return float(value) if not isinstance(value, int) or abs(value) < 2**1023 else None
    if isinstance(value, str) and _FLOAT.fullmatch(value):
        return float(value)
    return None


def statsig_field(key: str) -> Callable[[Mapping[str, Any], User], Any]:
    """How Statsig finds a field: the user's own (non-empty) field, custom, private."""
    lowered = key.lower()
    own = _USER_FIELDS.get(lowered)
    alt = _ALT_FIELDS.get(lowered)

    def lookup(attributes: Mapping[str, Any], user: User) -> Any:
        if own is not None:
            found = getattr(user, own, None)
            if found:
                return found
        for source in (user.custom, user.private):
            if key in source:
                return source[key]
            if lowered in source:
                return source[lowered]
        if alt is not None:
            return getattr(user, alt, None)
        return None

    return lookup


# -- operators ---------------------------------------------------------------------


def _target_text(item: Any) -> str:
    # A condition's list holds text as written and anything else as JSON (1.0 is "1.0").
    if isinstance(item, str):
        return item
    return json.dumps(item, separators=(",", ":"), ensure_ascii=False)


def _texts(op: str, arg: Any, path: str) -> list[str]:
    """The texts of a condition's list (Statsig tests nothing against a non-list)."""
    if not isinstance(arg, list | tuple) or any(
        isinstance(item, Mapping | list | tuple) for item in arg
    ):
        raise ConditionError(path, f"{op} takes a list of strings or numbers, got {arg!r}")
    return [_target_text(item) for item in arg]


def _last_per_case(texts: list[str]) -> list[str]:
    """What Statsig keeps of a list a case-sensitive test reads: one text per lower-case
    spelling, the last one written."""
    return list({text.lower(): text for text in texts}.values())


def op_eq(compiler: ValueCompiler, op: str, arg: Any, path: str) -> Predicate:
    test = equals_test(arg, path)
    return test if op == "$eq" else negate(test)


def equals_test(arg: Any, path: str) -> Predicate:
    """Statsig's ``eq``: the value seen through the view of the condition's type."""
    if arg is None:
        return lambda v: v is None
    if isinstance(arg, bool):
        return lambda v: v is arg
    if isinstance(arg, int | float):
        number = float(arg)
        return lambda v: statsig_number(v) == number
    if isinstance(arg, str):
        return lambda v: statsig_string(v) == arg
    if isinstance(arg, list | tuple):
        wanted = _texts("$eq", arg, path)
        return lambda v: (
            isinstance(v, list | tuple)
            and len(v) == len(wanted)
            and all(statsig_string(x) == w for x, w in zip(v, wanted, strict=True))
        )
    raise ConditionError(
        path, f"$eq compares with a string, number, boolean, list or null, got {arg!r}"
    )


_ORDER: dict[str, Callable[[float, float], bool]] = {
    "$lt": float.__lt__, "$lte": float.__le__, "$gt": float.__gt__, "$gte": float.__ge__,
}  # fmt: skip


def op_order(compiler: ValueCompiler, op: str, arg: Any, path: str) -> Predicate:
    target = statsig_number(arg)
    if target is None:
        raise ConditionError(path, f"{op} compares with a number, got {arg!r}")
    holds = _ORDER[op]
    return lambda v: (n := statsig_number(v)) is not None and holds(n, target)


def _version_parts(text: str) -> list[int] | None:
    parts = []
    for part in text.split("-", 1)[0].split("."):
        stripped = part.strip()
        if not _WHOLE.fullmatch(stripped):
            return None
        parts.append(int(stripped))
    return parts


def compare_statsig_versions(left: str, right: str) -> int | None:
    """-1/0/1, or None when a part is not a whole number (the test then fails)."""
    a, b = _version_parts(left), _version_parts(right)
    if a is None or b is None:
        return None
    size = max(len(a), len(b))
    a += [0] * (size - len(a))
    b += [0] * (size - len(b))
    return (a > b) - (a < b)


_VERSION_RESULT: dict[str, Callable[[int], bool]] = {
    "$vgt": lambda r: r > 0, "$vgte": lambda r: r >= 0, "$vlt": lambda r: r < 0,
    "$vlte": lambda r: r <= 0, "$veq": lambda r: r == 0, "$vne": lambda r: r != 0,
}  # fmt: skip


def op_version(compiler: ValueCompiler, op: str, arg: Any, path: str) -> Predicate:
    target = arg if isinstance(arg, str) else None  # Statsig sees no text in a number
    if target is None:
        raise ConditionError(path, f"{op} compares with a version string, got {arg!r}")
    holds = _VERSION_RESULT[op]

    def test(value: Any) -> bool:
        text = statsig_string(value)
        if text is None:
            return False
        result = compare_statsig_versions(text, target)
        return result is not None and holds(result)

    return test


def op_in(compiler: ValueCompiler, op: str, arg: Any, path: str) -> Predicate:
    insensitive = op in ("$ini", "$nini")
    texts = _texts(op, arg, path)
    wanted = (
        frozenset(t.lower() for t in texts) if insensitive else frozenset(_last_per_case(texts))
    )

    def member(value: Any) -> bool:
        text = statsig_string(value) or ""
        return (text.lower() if insensitive else text) in wanted

    return member if op in ("$in", "$ini") else negate(member)


_STRING_OPS: dict[str, Callable[[str, str], bool]] = {
    "$startsWithi": str.startswith, "$endsWithi": str.endswith,
    "$containsi": str.__contains__, "$notContainsi": str.__contains__,
}  # fmt: skip


def op_string(compiler: ValueCompiler, op: str, arg: Any, path: str) -> Predicate:
    holds = vendor_operator(_STRING_OPS, op, "Statsig", path)
    wanted = tuple(t.lower() for t in _texts(op, arg, path))

    def test(value: Any) -> bool:
        text = (statsig_string(value) or "").lower()
        return any(holds(text, w) for w in wanted)

    return negate(test) if op == "$notContainsi" else test


def op_regex(compiler: ValueCompiler, op: str, arg: Any, path: str) -> Predicate:
    if op not in ("$regex", "$notRegex"):
        raise ConditionError(path, f"{op} is not a Statsig operator; use $regex")
    from flagport.providers.local.conditions.operators import ValueCompiler

    matches = ValueCompiler.op_regex(compiler, op, arg, path)
    if op == "$notRegex":
        return lambda v: not ((text := statsig_string(v)) is not None and matches(text))
    return lambda v: (text := statsig_string(v)) is not None and matches(text)


def op_array(compiler: ValueCompiler, op: str, arg: Any, path: str) -> Predicate:
    wanted = _last_per_case(_texts(op, arg, path))

    def test(value: Any) -> bool:
        if not isinstance(value, list | tuple):
            return False
        have = {statsig_string(x) or "" for x in value}
        if op == "$hasAll":
            return all(w in have for w in wanted)
        if op == "$hasAny":
            return any(w in have for w in wanted)
        if op == "$hasNone":
            return not any(w in have for w in wanted)
        return not all(w in have for w in wanted)  # $lacksAny

    return test


STATSIG_OPERATORS: dict[str, Operator] = {
    **dict.fromkeys(("$eq", "$ne"), op_eq),
    **dict.fromkeys(("$lt", "$lte", "$gt", "$gte"), op_order),
    **dict.fromkeys(("$veq", "$vne", "$vlt", "$vlte", "$vgt", "$vgte"), op_version),
    **dict.fromkeys(("$in", "$nin", "$ini", "$nini"), op_in),
    **dict.fromkeys(_STRING_OPS, op_string),
    **dict.fromkeys(("$startsWith", "$endsWith", "$contains", "$notContains"), op_string),
    **dict.fromkeys(("$regex", "$regexi", "$notRegex", "$notRegexi"), op_regex),
    **dict.fromkeys(("$hasAny", "$hasNone", "$hasAll", "$lacksAny"), op_array),
}
