"""Regular expressions for ``$regex`` and friends, run by RE2 in linear time.

Python's :mod:`re` backtracks: ``(a+)+$`` against 28 ``a`` and a ``!`` takes 20
seconds and holds the GIL all along, so one rule in a flags file could stall every
thread of an application. RE2 (Google's engine, the ``google-re2`` bindings) runs any
pattern in time linear in the text, and refuses what needs backtracking
(backreferences such as ``\\1``, look-around such as ``(?=...)``, possessive
quantifiers) instead of running it slowly. Its syntax is the common core of
JavaScript's (GrowthBook's SDKs) and Python's, with these differences, all refused
at load or documented in ``docs/flags-file.md``: ``\\w \\d \\s \\b`` are ASCII (as in
JavaScript, not Unicode as in Python), a repetition count is at most 1000, and
``{,n}`` (Python's ``{0,n}``, JavaScript's literal text) is refused as ambiguous.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import re2  # type: ignore[import-untyped]  # google-re2 ships no type information

from flagport.providers.local.regex_cost import MAX_NESTING, dfa_risk

__all__ = ["MAX_DFA_RISK", "MAX_PROGRAM_SIZE", "MAX_REPEAT", "RegexError", "compile_search"]

#: The largest repetition count RE2 accepts (``a{1000}``).
MAX_REPEAT = 1000
#: The most instructions a compiled pattern may have (RE2's ``programsize``). Time is
#: linear in the text, but the factor grows with the program: RE2's DFA builds states
#: of up to this many instructions and, when they outgrow its cache, falls back to
#: simulating the program one character at a time. ``(x|y|z|a|b|.){1000}q`` compiles
#: to 10,005 instructions and took 8.5 s on 100,000 characters.
MAX_PROGRAM_SIZE = 1000
#: The most risky positions (:func:`.regex_cost.dfa_risk`) a pattern may have: a class
#: repeated after something that can match the same characters, as in ``a[ab]{10}c``.
#: Each one can double the states RE2's DFA meets; past its cache RE2 simulates the
#: program instead, 10 to 100 times slower (``a[ab]{20}c``: 1 to 3 ms per 1,000
#: characters; ``a[ab]{8}c``: under 0.1, built from nothing on 1,000 characters).
MAX_DFA_RISK = 8

_REPEAT = re.compile(r"\{(\d*)(,?)(\d*)\}")


class RegexError(ValueError):
    """A pattern flagport refuses to run; the message says why and how to fix it."""


def _options(*, insensitive: bool) -> re2.Options:
    options = re2.Options()
    options.log_errors = False  # the reason is in the exception; RE2 would print it too
    # Without captures RE2 only needs its DFA to know whether a pattern matches.
    options.never_capture = True
    # RE2 gives its DFA what is left of max_mem after the program; with the default 8
    # MiB a program of 900 instructions leaves too little and every search simulates
    # the program instead (36 ms per 1,000 characters for [a-z]{990}). 16 MiB keeps the
    # DFA for every program flagport accepts. It is a cap, not an allocation: the DFA
    # grows with the states it meets, and MAX_DFA_RISK keeps those few.
    options.max_mem = 16 << 20
    options.case_sensitive = not insensitive
    return options


_UNANCHORED = re2._re2.RE2.Anchor.UNANCHORED
_SENSITIVE = _options(insensitive=False)
_INSENSITIVE = _options(insensitive=True)


def _ambiguous_repetition(pattern: str) -> str | None:
    """A ``{...}`` that RE2 would read as literal text but Python as a repetition."""
    i, end, in_class = 0, len(pattern), False
    while i < end:
        char = pattern[i]
        if char == "\\":
            i += 2
            continue
        if in_class:
            in_class = char != "]"
        elif char == "[":
            in_class = True
            # A "]" first in a class (after an optional "^") is a literal "]".
            i += 1 + (pattern.startswith("^", i + 1))
            i += pattern.startswith("]", i)
            continue
        elif char == "{" and i and (found := _REPEAT.match(pattern, i)):
            low, comma, high = found.groups()
            if comma and not low:
                return (
                    f"{found.group(0)} means {{0{found.group(0)[1:]} in Python but literal "
                    f"text in JavaScript and RE2; write {{0{found.group(0)[1:]} or escape "
                    "the brace as \\{"
                )
            if any(n and int(n) > MAX_REPEAT for n in (low, high)):
                return (
                    f"repetition {found.group(0)} is over {MAX_REPEAT}, the most RE2 "
                    "repeats; use a smaller count or + / *"
                )
        i += 1
    return None


def _hint(reason: str) -> str:
    if any(word in reason for word in ("escape sequence", "perl operator", "repetition op")):
        return (
            "; flagport runs patterns with RE2, which takes linear time and so has no "
            "backreferences, look-around or possessive quantifiers"
        )
    return ""


def _check_size(program: Any) -> None:
    # The reverse program (which finds where a match starts) is compiled on first use;
    # measuring it here compiles it at load, not in the first evaluation.
    size = max(program.ProgramSize(), program.ReverseProgramSize())
    if size > MAX_PROGRAM_SIZE:
        raise RegexError(
            f"it compiles to {size:,} RE2 instructions, more than the {MAX_PROGRAM_SIZE:,} "
            "flagport runs (matching time grows with the program); use smaller repetition "
            "counts (each copy of a repeated group or class counts, `.` and `\\pL` are "
            "several instructions), or `+` / `*` instead of a count"
        )


def _check_risk(pattern: str, *, insensitive: bool) -> None:
    risk = dfa_risk(pattern, insensitive=insensitive)
    if risk is None:
        raise RegexError(
            f"it nests more than {MAX_NESTING} repeated groups or alternatives; flatten it"
        )
    if risk > MAX_DFA_RISK:
        raise RegexError(
            f"{risk:,} of the characters it matches come from a class repeated after "
            "something that can match the same characters (as in `a[ab]{20}c` or "
            "`.*a.{20}`), more than the "
            f"{MAX_DFA_RISK} flagport runs: on some texts RE2 then meets a new state at "
            "almost every character and runs 10 to 100 times slower; anchor the pattern "
            "with ^ (or $), start the repetition after a character it cannot match "
            "(`@[a-z]{1,30}`), or use + / * instead of a count"
        )


def compile_search(pattern: str, *, insensitive: bool = False) -> Callable[[str], bool]:
    """Compile ``pattern`` into ``text -> whether it matches anywhere in text``.

    Matching is ``re.search``'s (GrowthBook's Python SDK; JavaScript's ``RegExp.test``):
    unanchored unless the pattern anchors itself. It takes time linear in the text.

    :param insensitive: ignore case (``$regexi``, ``$notRegexi``).
    :raises RegexError: RE2 cannot run the pattern (backreference, look-around, a
        repetition over 1000), it compiles to more than :data:`MAX_PROGRAM_SIZE`
        instructions, it has more than :data:`MAX_DFA_RISK` risky positions, or it
        is ambiguous.
    """
    problem = _ambiguous_repetition(pattern)
    if problem is not None:
        raise RegexError(problem)
    try:
        compiled = re2.compile(pattern, _INSENSITIVE if insensitive else _SENSITIVE)
    except re2.error as exc:
        reason = exc.args[0] if exc.args else exc
        if isinstance(reason, bytes):
            reason = reason.decode("utf-8", "replace")
        raise RegexError(f"{reason}{_hint(str(reason))}") from None
    _check_size(compiled._regexp)
    _check_risk(pattern, insensitive=insensitive)
    # The binding's own Match, not the wrapper's search: the wrapper builds a match
    # object and maps byte offsets back to characters, five times the cost of the
    # match itself on a short attribute. Never capturing, Match returns one span.
    match = compiled._regexp.Match

    def matches(text: str) -> bool:
        try:
            data = text.encode("utf-8")
        except UnicodeEncodeError:
            # A lone surrogate (from a JSON "\\ud800") has no UTF-8 form; RE2 reads UTF-8.
            data = text.encode("utf-8", "replace")
        start: int = match(_UNANCHORED, data, 0, len(data))[0][0]
        return start >= 0  # -1 when nothing matched

    return matches
