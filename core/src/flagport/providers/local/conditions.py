"""The condition language of the local evaluator: GrowthBook's MongoDB-style targeting.

A condition is a mapping from attribute names (dot paths into nested values) to a
literal or to an *operator object* such as ``{"$in": ["US", "CA"]}``, plus the
logical keys ``$or``, ``$nor``, ``$and`` and ``$not``. The semantics are those of
GrowthBook's SDKs (checked against ``growthbook.core.evalCondition`` 4.0.0 by a
differential test), so a rule moves between GrowthBook and flagport unchanged:

- A literal matches only a value of the same JSON type: ``1`` never equals ``True``
  nor ``"1"``; ``1`` equals ``1.0``; lists and objects compare deeply (object keys
  in JavaScript property order). A missing attribute is ``null``.
- ``$eq``/``$ne`` are JavaScript ``===``: a list or object never equals anything.
- ``$lt $lte $gt $gte`` order two numbers or two strings (strings by UTF-16 code
  units, as JavaScript does); anything else fails, booleans included.
- ``$veq $vne $vlt $vlte $vgt $vgte`` compare versions (:mod:`.versions`); a type
  mismatch fails, except for ``$vne`` which then passes.
- ``$in $nin $ini $nini`` and ``$inGroup $notInGroup`` (membership of a flagport
  *segment*): when the attribute is a list, it matches if any element is in the
  set. ``$all $alli`` need a list attribute holding a match for every element;
  ``$elemMatch`` needs a list with an element that matches; ``$size`` tests the
  length of a list.
- The ``i`` variants (``$ini $nini $alli $regexi $notRegexi``) ignore case.
- ``$exists`` is about ``null``; ``$type`` is one of ``string number boolean array
  object null``.
- ``$regex`` and friends search like ``re.search`` but run on RE2 (:mod:`.regex`), in
  time linear in the attribute; a pattern RE2 cannot run is refused.

Conditions are compiled once into nested closures; evaluating one never looks at
the condition mapping again. Before compiling, a condition is checked against the
bounds of :mod:`.limits` (no cycle, bounded depth and size with YAML aliases expanded),
so compiling and evaluating it take bounded time and memory.

Intentional differences from GrowthBook, all on conditions GrowthBook would
silently treat as never (or, for ``$notRegex``, always) matching: flagport refuses
them at compile time with a :class:`ConditionError` naming the place, because in a
flags file they are typos. These are an unknown ``$`` key (GrowthBook reads one
at condition level as an attribute name), an invalid regular expression (or one
RE2 cannot run: a backreference, look-around), a
non-list for ``$in $nin $ini $nini $all $alli``, a non-mapping for ``$elemMatch``
or ``$not``, a non-number non-string for ``$lt``..``$gte`` and the version
operators, an unknown ``$type`` name, a ``$inGroup`` segment that is not defined,
``$or``/``$and``/``$nor`` used as a value operator, and GrowthBook's
``$savedGroup`` references (flagport segments are plain lists). Beyond JSON, a
``tuple`` counts as an array and any ``Mapping`` as an object.
"""

from __future__ import annotations

import difflib
import json
import operator
from collections.abc import Callable, Collection, Iterator, Mapping, Sequence
from typing import Any

from flagport.providers.local.limits import MAX_CONDITION_SIZE, Audit
from flagport.providers.local.regex import RegexError, compile_search
from flagport.providers.local.versions import padded_version, padded_version_text

__all__ = [
    "Condition",
    "ConditionError",
    "compile_audited",
    "compile_condition",
    "explain_condition",
]

Condition = Callable[[Mapping[str, Any]], bool]
"""A compiled condition: attributes in, match out. Never raises."""

_Predicate = Callable[[Any], bool]
_Segments = Mapping[str, Collection[Any]]

_COMPARE: dict[str, Callable[[Any, Any], bool]] = {
    "$lt": operator.lt, "$lte": operator.le, "$gt": operator.gt, "$gte": operator.ge,
    "$vlt": operator.lt, "$vlte": operator.le, "$vgt": operator.gt, "$vgte": operator.ge,
    "$veq": operator.eq, "$vne": operator.ne,
}  # fmt: skip
_TYPE_NAMES = frozenset({"string", "number", "boolean", "array", "object", "null"})
_LOGICAL = ("$or", "$nor", "$and", "$not")
_GROUP_KEYS = frozenset({"$or", "$nor", "$and", "$savedGroup"})
_VALUE_OPERATORS = [
    *("$eq", "$ne", "$lt", "$lte", "$gt", "$gte"),
    *("$veq", "$vne", "$vlt", "$vlte", "$vgt", "$vgte"),
    *("$in", "$nin", "$ini", "$nini", "$all", "$alli", "$elemMatch", "$size"),
    *("$exists", "$type", "$not", "$regex", "$regexi", "$notRegex", "$notRegexi"),
    *("$inGroup", "$notInGroup"),
]


class ConditionError(ValueError):
    """A condition that cannot be compiled.

    :ivar path: where in the condition, e.g. ``"country.$inn"`` or ``"$or[1].plan"``.
    :ivar message: what is wrong and how to fix it.
    """

    def __init__(self, path: str, message: str) -> None:
        super().__init__(f"{path}: {message}" if path else message)
        self.path = path
        self.message = message


# -- JSON-type rules ---------------------------------------------------------------


_NUMBER = (int, float)


def _is_number(value: Any) -> bool:
    return isinstance(value, _NUMBER) and not isinstance(value, bool)


def _type_of(value: Any) -> str:
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


def _is_array_index(key: str, length: int) -> bool:
    # Canonical indices only ("0", "12"; not "01" or "-0"), like JavaScript own keys.
    return (
        len(key) <= 10
        and key.isascii()
        and key.isdigit()
        and (key == "0" or key[0] != "0")
        and int(key) < length
    )


def _js_key_order(obj: Mapping[Any, Any]) -> list[Any]:
    # JavaScript lists integer-like keys first, ascending, then the rest in insertion order.
    indices = [k for k in obj if isinstance(k, str) and _is_array_index(k, 2**32 - 1)]
    others = [k for k in obj if not (isinstance(k, str) and _is_array_index(k, 2**32 - 1))]
    return sorted(indices, key=int) + others


def _json_value(value: Any) -> Any:
    # JSON.stringify, which GrowthBook's deep equality mirrors, writes NaN/Infinity as null.
    if isinstance(value, float) and (value != value or value in (float("inf"), float("-inf"))):
        return None
    return value


def _deep_equal(a: Any, b: Any) -> bool:
    kind = _type_of(a)
    if kind != _type_of(b):
        return False
    if kind == "array":
        return len(a) == len(b) and all(
            _deep_equal(_json_value(x), _json_value(y)) for x, y in zip(a, b, strict=True)
        )
    if kind == "object":
        return _js_key_order(a) == _js_key_order(b) and all(
            _deep_equal(_json_value(a[k]), _json_value(b[k])) for k in a
        )
    return bool(a == b)


def _get_path(value: Any, segments: Sequence[str]) -> Any:
    for segment in segments:
        if isinstance(value, Mapping):
            if segment not in value:
                return None
            value = value[segment]
        elif isinstance(value, list | tuple):
            if segment == "length":
                value = len(value)
            elif _is_array_index(segment, len(value)):
                value = value[int(segment)]
            else:
                return None
        else:
            return None
    return value


def _utf16(text: str) -> bytes:
    return text.encode("utf-16-be", "surrogatepass")


# -- small combinators -------------------------------------------------------------


def _always(result: bool) -> _Predicate:
    return lambda _value: result


def _all_of(predicates: Sequence[_Predicate]) -> _Predicate:
    if not predicates:
        return _always(True)
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


def _any_of(predicates: Sequence[_Predicate]) -> _Predicate:
    if len(predicates) == 1:
        return predicates[0]
    chain = tuple(predicates)

    def any_of(value: Any) -> bool:
        for predicate in chain:  # noqa: SIM110
            if predicate(value):
                return True
        return False

    return any_of


def _negate(predicate: _Predicate) -> _Predicate:
    return lambda value: not predicate(value)


def _join(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key


def _suggest(name: str, known: Sequence[str]) -> str:
    close = difflib.get_close_matches(name, known, n=1, cutoff=0.6)
    return f"; did you mean {close[0]}?" if close else ""


# -- literals and membership -------------------------------------------------------


def _equals(expected: Any, *, insensitive: bool = False) -> _Predicate:
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
            value == expected and not isinstance(value, bool) and isinstance(value, _NUMBER)
        )
    return lambda value: _deep_equal(expected, value)


def _strict_equals(expected: Any) -> _Predicate:
    """JavaScript ``===`` between two separately parsed values: containers never match."""
    if _type_of(expected) in ("array", "object"):
        return _always(False)
    return _equals(expected)


def _membership(values: Collection[Any], *, insensitive: bool) -> _Predicate:
    """``$in``: the value, or any element of a list value, is one of ``values``."""
    scalars: set[Any] = set()
    booleans: set[bool] = set()
    for item in values:
        if isinstance(item, bool):
            booleans.add(item)
        elif isinstance(item, str):
            scalars.add(item.lower() if insensitive else item)
        elif item is None or _is_number(item):
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


# -- operators on a value ----------------------------------------------------------


class _Compiler:
    """Turns a condition mapping into closures; one instance per compile."""

    def __init__(self, segments: _Segments | None) -> None:
        self.segments = segments

    # Conditions (attribute mappings) ------------------------------------------------

    def condition(self, cond: Any, path: str, *, generic: bool = False) -> _Predicate:
        """Compile a whole condition; the predicate takes the attribute mapping.

        ``generic`` allows any value as "attributes" (``$elemMatch`` items).
        """
        return _all_of([entry for _, entry in self.entries(cond, path, generic=generic)])

    def entries(
        self, cond: Any, path: str, *, generic: bool = False
    ) -> Iterator[tuple[str, _Predicate]]:
        if not isinstance(cond, Mapping):
            raise ConditionError(
                path, f"a condition must be a mapping of attribute to value, got {cond!r}"
            )
        for key, value in cond.items():
            if not isinstance(key, str):
                raise ConditionError(path, f"condition keys must be strings, got {key!r}")
            yield key, self.entry(key, value, _join(path, key), generic=generic)

    def entry(self, key: str, value: Any, path: str, *, generic: bool) -> _Predicate:
        if key.startswith("$"):
            return self.logical(key, value, path, generic=generic)
        test = self.value(value, path)
        if "." not in key and not generic:
            if isinstance(value, str):
                return lambda attributes: attributes.get(key) == value
            return lambda attributes: test(attributes.get(key))
        segments = tuple(key.split("."))
        return lambda attributes: test(_get_path(attributes, segments))

    def logical(self, key: str, value: Any, path: str, *, generic: bool) -> _Predicate:
        if key == "$not":
            return _negate(self.condition(value, path, generic=generic))
        if key in ("$or", "$nor", "$and"):
            if not isinstance(value, list | tuple):
                raise ConditionError(path, f"{key} takes a list of conditions, got {value!r}")
            parts = [
                self.condition(sub, f"{path}[{i}]", generic=generic) for i, sub in enumerate(value)
            ]
            if key == "$and":
                return _all_of(parts)
            # An empty $or passes, as in GrowthBook (so an empty $nor fails).
            either = _any_of(parts) if parts else _always(True)
            return either if key == "$or" else _negate(either)
        if key in ("$savedGroup", "$savedGroups"):
            raise ConditionError(
                path,
                f"{key} (GrowthBook typed saved groups) is not supported; "
                "use {attribute: {$inGroup: segment}}",
            )
        raise ConditionError(
            path,
            f"unknown operator {key} at condition level (expected an attribute name or one "
            f"of {', '.join(_LOGICAL)}){_suggest(key, _LOGICAL)}",
        )

    # Values (one attribute) ---------------------------------------------------------

    def value(self, expected: Any, path: str, *, insensitive: bool = False) -> _Predicate:
        """Compile what an attribute's value must satisfy: a literal or operators."""
        if isinstance(expected, Mapping) and all(
            isinstance(k, str) and k.startswith("$") for k in expected
        ):
            # An empty mapping has no operators, so it matches anything (as in GrowthBook).
            return _all_of(
                [self.operator(op, arg, _join(path, op)) for op, arg in expected.items()]
            )
        return _equals(expected, insensitive=insensitive)

    def operator(self, op: str, arg: Any, path: str) -> _Predicate:
        method = _OPERATORS.get(op)
        if method is not None:
            return method(self, op, arg, path)
        if op in _GROUP_KEYS:
            raise ConditionError(
                path, f"{op} combines conditions; use it at condition level, not on a value"
            )
        raise ConditionError(path, f"unknown operator {op}{_suggest(op, _VALUE_OPERATORS)}")

    def op_eq(self, op: str, arg: Any, path: str) -> _Predicate:
        test = _strict_equals(arg)
        return test if op == "$eq" else _negate(test)

    def op_order(self, op: str, arg: Any, path: str) -> _Predicate:
        holds = _COMPARE[op]
        if _is_number(arg):
            return lambda v: _is_number(v) and holds(v, arg)
        if not isinstance(arg, str):
            raise ConditionError(path, f"{op} compares with a number or a string, got {arg!r}")
        # Code points and UTF-16 code units order alike unless both strings leave ASCII.
        arg16 = _utf16(arg)
        return lambda v: (
            isinstance(v, str) and (holds(v, arg) if v.isascii() else holds(_utf16(v), arg16))
        )

    def op_version(self, op: str, arg: Any, path: str) -> _Predicate:
        holds = _COMPARE[op]
        want = padded_version(arg)
        if isinstance(arg, str):
            # padded_version without its type dispatch: the operand is a string.
            if op == "$vne":
                return lambda v: not isinstance(v, str) or padded_version_text(v or "0") != want
            return lambda v: isinstance(v, str) and holds(padded_version_text(v or "0"), want)
        if not _is_number(arg):
            raise ConditionError(path, f"{op} compares with a version string, got {arg!r}")
        # A number is a version too (2 is "2"), compared only with numbers.
        if op == "$vne":
            return lambda v: not _is_number(v) or padded_version(v) != want
        return lambda v: _is_number(v) and holds(padded_version(v), want)

    def op_in(self, op: str, arg: Any, path: str) -> _Predicate:
        if not isinstance(arg, list | tuple):
            raise ConditionError(path, f"{op} takes a list of values, got {arg!r}")
        test = _membership(arg, insensitive=op in ("$ini", "$nini"))
        return test if op in ("$in", "$ini") else _negate(test)

    def op_group(self, op: str, arg: Any, path: str) -> _Predicate:
        known = self.segments or {}
        if not isinstance(arg, str) or arg not in known:
            names = sorted(known)
            hint = _suggest(arg, names) if isinstance(arg, str) else ""
            raise ConditionError(
                path,
                f"{op} names a segment, got {arg!r}; defined segments: "
                f"{', '.join(names) or 'none'}{hint}",
            )
        test = _membership(known[arg], insensitive=False)
        return test if op == "$inGroup" else _negate(test)

    def op_all(self, op: str, arg: Any, path: str) -> _Predicate:
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

    def op_elem_match(self, op: str, arg: Any, path: str) -> _Predicate:
        if not isinstance(arg, Mapping):
            raise ConditionError(path, f"$elemMatch takes a condition mapping, got {arg!r}")
        # Operators test each element itself; anything else tests each element's fields.
        on_value = all(isinstance(k, str) and k.startswith("$") for k in arg) and not any(
            k in _GROUP_KEYS for k in arg
        )
        test = self.value(arg, path) if on_value else self.condition(arg, path, generic=True)

        def elem_match(value: Any) -> bool:
            if not isinstance(value, list | tuple):
                return False
            return any(item is not None and test(item) for item in value)

        return elem_match

    def op_size(self, op: str, arg: Any, path: str) -> _Predicate:
        test = self.value(arg, path)
        return lambda v: isinstance(v, list | tuple) and test(len(v))

    def op_exists(self, op: str, arg: Any, path: str) -> _Predicate:
        if arg:
            return lambda v: v is not None
        return lambda v: v is None

    def op_type(self, op: str, arg: Any, path: str) -> _Predicate:
        if not isinstance(arg, str) or arg not in _TYPE_NAMES:
            raise ConditionError(
                path, f"$type is one of {', '.join(sorted(_TYPE_NAMES))}, got {arg!r}"
            )
        return lambda v: _type_of(v) == arg

    def op_not(self, op: str, arg: Any, path: str) -> _Predicate:
        return _negate(self.value(arg, path))

    def op_regex(self, op: str, arg: Any, path: str) -> _Predicate:
        if not isinstance(arg, str):
            raise ConditionError(path, f"{op} takes a regular expression string, got {arg!r}")
        try:
            matches = compile_search(arg, insensitive=op.endswith("i"))
        except RegexError as exc:
            raise ConditionError(path, f"invalid regular expression {arg!r}: {exc}") from None
        if op.startswith("$not"):
            return lambda v: not (isinstance(v, str) and matches(v))
        return lambda v: isinstance(v, str) and matches(v)


_Operator = Callable[[_Compiler, str, Any, str], _Predicate]
_OPERATORS: dict[str, _Operator] = {
    **dict.fromkeys(("$eq", "$ne"), _Compiler.op_eq),
    **dict.fromkeys(("$lt", "$lte", "$gt", "$gte"), _Compiler.op_order),
    **dict.fromkeys(("$veq", "$vne", "$vlt", "$vlte", "$vgt", "$vgte"), _Compiler.op_version),
    **dict.fromkeys(("$in", "$nin", "$ini", "$nini"), _Compiler.op_in),
    **dict.fromkeys(("$inGroup", "$notInGroup"), _Compiler.op_group),
    **dict.fromkeys(("$all", "$alli"), _Compiler.op_all),
    "$elemMatch": _Compiler.op_elem_match,
    "$size": _Compiler.op_size,
    "$exists": _Compiler.op_exists,
    "$type": _Compiler.op_type,
    "$not": _Compiler.op_not,
    **dict.fromkeys(("$regex", "$regexi", "$notRegex", "$notRegexi"), _Compiler.op_regex),
}


# -- public API --------------------------------------------------------------------


def compile_condition(
    cond: Mapping[str, Any],
    segments: Mapping[str, Collection[Any]] | None = None,
    *,
    path: str = "",
) -> Condition:
    """Compile a condition into a function of the attributes.

    :param cond: the condition, e.g. ``{"country": {"$in": ["US", "CA"]}}``; an empty
        mapping matches everyone.
    :param segments: named lists of values for ``$inGroup``/``$notInGroup`` (the flags
        file's ``segments``; GrowthBook's saved groups).
    :param path: where the condition sits in its source, prefixed to error paths
        (e.g. ``"gates.new_checkout.rules[0].when"``).
    :returns: a function taking the flat attribute mapping (``User.attributes``) and
        returning whether it matches. It never raises.
    :raises ConditionError: the condition is malformed: an unknown operator, a bad
        regular expression, a non-list for ``$in``, an undefined segment, ... or it
        breaks a limit of :mod:`.limits` (it contains itself, nests too deep, is too
        large once YAML aliases are expanded).
    """
    _check_limits(cond, path, Audit())
    return compile_audited(cond, segments, path=path)


def compile_audited(
    cond: Mapping[str, Any],
    segments: Mapping[str, Collection[Any]] | None = None,
    *,
    path: str = "",
) -> Condition:
    """:func:`compile_condition` for a condition already checked by an :class:`.Audit`.

    The loader checks every condition of a file with one audit (so aliases shared
    between flags count once against the file's limit) before compiling it.
    """
    return _Compiler(segments).condition(cond, path)


def _check_limits(cond: Any, path: str, audit: Audit) -> None:
    for where, message in audit.check(cond, path, max_size=MAX_CONDITION_SIZE):
        raise ConditionError(where, message)


def explain_condition(
    cond: Mapping[str, Any],
    attributes: Mapping[str, Any],
    segments: Mapping[str, Collection[Any]] | None = None,
) -> list[tuple[str, bool]]:
    """Evaluate each part of a condition separately, for ``flagport explain``.

    Parts are listed depth first: every attribute test (one line per operator) and
    every ``$or``/``$and``/``$nor``/``$not`` group with its own result, followed by
    the parts inside it, whose paths are prefixed with the group's (``$or[1].plan``).
    An attribute line ends with the value seen, e.g.
    ``('country $in ["US", "CA"] (got "DE")', False)``.

    :param cond: the condition.
    :param attributes: the flat attribute mapping.
    :param segments: as for :func:`compile_condition`.
    :returns: ``(description, matched)`` pairs.
    :raises ConditionError: the condition is malformed.
    """
    _check_limits(cond, "", Audit())
    compiler = _Compiler(segments)
    lines: list[tuple[str, bool]] = []
    _explain(compiler, cond, attributes, "", lines)
    return lines


def _show(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, default=repr)


def _explain(
    compiler: _Compiler,
    cond: Any,
    attributes: Any,
    prefix: str,
    lines: list[tuple[str, bool]],
) -> None:
    for key, test in compiler.entries(cond, prefix):
        value = cond[key]
        where = _join(prefix, key)
        if key.startswith("$"):
            lines.append((where, test(attributes)))
            if key == "$not":
                _explain(compiler, value, attributes, where, lines)
            else:
                for i, sub in enumerate(value):
                    _explain(compiler, sub, attributes, f"{where}[{i}]", lines)
            continue
        actual = _get_path(attributes, key.split("."))
        seen = f"(got {_show(actual)})" if actual is not None else "(missing)"
        operators = value if isinstance(value, Mapping) and value else None
        if operators is not None and all(isinstance(k, str) and k.startswith("$") for k in value):
            for op, arg in operators.items():
                check = compiler.operator(op, arg, _join(where, op))
                lines.append((f"{where} {op} {_show(arg)} {seen}", check(actual)))
        else:
            lines.append((f"{where} == {_show(value)} {seen}", test(attributes)))
