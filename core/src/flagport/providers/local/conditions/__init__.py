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

The evaluation context is reached through condition-level keys: ``$attributes``
(attribute names that start with ``$``: ``{"$attributes": {"$groups": ...}}``),
``$customIds``, ``$growthbook`` (a condition on the attributes the growthbook
provider sends, :mod:`..growthbook_view`), ``$featbit`` (the same for the featbit
provider's properties, :mod:`..featbit_view`), ``$environment`` (the tier), ``$now`` (the
current time, tested with ``$before``/``$after``/``$on``), ``$passGate``/``$failGate``
(another gate's answer) and ``$inSegment``/``$notInSegment`` (a segment with rules,
:mod:`.segments`).
A file or rule may name its matching semantics (:mod:`.statsig` for ``statsig``);
``growthbook`` is the default and the rules above.

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

from collections.abc import Callable, Collection, Mapping
from typing import Any

from flagport.providers.local.conditions.compiler import ConditionCompiler, check_limits
from flagport.providers.local.conditions.explain import explain_condition
from flagport.providers.local.conditions.options import (
    SEMANTICS,
    Condition,
    ConditionError,
    ConditionOptions,
    Semantics,
)
from flagport.providers.local.conditions.segments import Segment, SegmentDef
from flagport.providers.local.limits import Audit

__all__ = [
    "SEMANTICS",
    "Condition",
    "ConditionError",
    "ConditionOptions",
    "Segment",
    "SegmentDef",
    "Semantics",
    "check_limits",
    "compile_audited",
    "compile_condition",
    "explain_condition",
]


def compile_condition(
    cond: Mapping[str, Any],
    segments: Mapping[str, Collection[Any]] | None = None,
    *,
    path: str = "",
    options: ConditionOptions | None = None,
) -> Callable[[Mapping[str, Any]], bool]:
    """Compile a condition into a function of the attributes alone.

    :param cond: the condition, e.g. ``{"country": {"$in": ["US", "CA"]}}``; an empty
        mapping matches everyone.
    :param segments: named lists of values for ``$inGroup``/``$notInGroup`` (the flags
        file's ``segments``; GrowthBook's saved groups).
    :param path: where the condition sits in its source, prefixed to error paths
        (e.g. ``"gates.new_checkout.rules[0].when"``).
    :param options: semantics and the rest (:class:`ConditionOptions`); replaces
        ``segments`` when given.
    :returns: a function taking the flat attribute mapping (``User.attributes``) and
        returning whether it matches, for an anonymous user (no custom ids, the
        wall clock, the default tier). It never raises.
    :raises ConditionError: the condition is malformed: an unknown operator, a bad
        regular expression, a non-list for ``$in``, an undefined segment, ... or it
        breaks a limit of :mod:`.limits` (it contains itself, nests too deep, is too
        large once YAML aliases are expanded).
    """
    from flagport.user import User

    check_limits(cond, path, Audit())
    if options is None:
        options = ConditionOptions(segments=segments or {})
    test = compile_audited(cond, options, path=path)
    anonymous = User()
    return lambda attributes: test(attributes, anonymous)


def compile_audited(
    cond: Mapping[str, Any],
    options: ConditionOptions | Mapping[str, Collection[Any]] | None = None,
    *,
    path: str = "",
) -> Condition:
    """Compile a condition already checked by an :class:`.Audit` into a :data:`Condition`.

    The loader checks every condition of a file with one audit (so aliases shared
    between flags count once against the file's limit) before compiling it.

    :param options: a :class:`ConditionOptions`, or (as before) just the segments.
    :returns: ``(user.attributes, user) -> bool``; it never raises.
    """
    if not isinstance(options, ConditionOptions):
        options = ConditionOptions(segments=options or {})
    return ConditionCompiler(options).condition(cond, path)
