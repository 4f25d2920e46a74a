"""How many states RE2's DFA may need for a pattern: the one way an accepted pattern is slow.

RE2 matches in time linear in the text, but its fast path, a DFA built as it goes, is
fast only while the states it meets fit its cache. A class repeated a fixed number of
times after something that can also match it (``a[ab]{20}c``, ``.*a.{20}``) gives
every set of positions inside the repetition its own state: on random ``a``/``b`` text
RE2 meets a new state at almost every character, its cache overflows, and it falls
back to simulating the program at about 100 ns per character and live position. Those
patterns ran at 1 to 27 ms per 1,000 characters.

:func:`dfa_risk` reads a pattern (already accepted by RE2) and counts its *risky
positions*: characters matched by a class (a set of more than one character) inside a
counted repetition or a sequence, each counted as many times as repetitions around it
multiply it, that a new match attempt can enter while earlier attempts are still
inside. A position is safe when its entries cannot overlap:

- the pattern is anchored (``^`` for the forward scan, ``$`` for the backward one RE2
  uses to find where a match starts, or for a pattern anchored only at its end) and
  everything before it has a fixed length, so there is one attempt;
- it starts the pattern, so an attempt enters it at every character: the attempts
  inside form one run (a character outside the class ends them all), not any subset;
- what comes before it ends in characters the repeated class cannot match
  (``@[a-z]{1,30}``, ``-\\d{4}``): each entry ends every attempt already inside.

Past an optional part (``b?``, ``.*``) attempts started at different characters no
longer line up one per position, and RE2 keeps them in the order of their start (the
leftmost match wins), so ``b?.{35}c`` blows up too: what follows such a part counts as
entered after its characters. A star or plus loop is one position however many
attempts are in it, so it adds no risk.

The count is deterministic (the same on every machine); the caller refuses a pattern
whose risky positions exceed a limit, which keeps the DFA to a few hundred states.
Character sets are approximated over ASCII plus one symbol for every other character;
an approximation only ever makes a set larger, so a position is never judged safe
because of it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

__all__ = ["MAX_NESTING", "dfa_risk"]

_OTHER = 1 << 128  # every character outside ASCII, as one symbol
_ALL = (1 << 129) - 1
_NEWLINE = 1 << 10


def _chars(text: str) -> int:
    mask = 0
    for char in text:
        mask |= 1 << ord(char) if ord(char) < 128 else _OTHER
    return mask


def _span(low: int, high: int) -> int:
    mask = 0
    if low < 128:
        mask = ((1 << (min(high, 127) + 1)) - 1) & ~((1 << low) - 1)
    return mask | (_OTHER if high >= 128 else 0)


_DIGIT = _span(48, 57)
_WORD = _DIGIT | _span(65, 90) | _span(97, 122) | _chars("_")
_SPACE = _chars("\t\n\f\r ")
_UPPER, _LOWER = _span(65, 90), _span(97, 122)
_PERL = {"d": _DIGIT, "w": _WORD, "s": _SPACE}
_CONTROL = {"a": "\a", "f": "\f", "t": "\t", "n": "\n", "r": "\r", "v": "\v"}
_REPEAT = re.compile(r"\{(\d+)(,(\d*))?\}")
_HEX = re.compile(r"x(\{[0-9A-Fa-f]+\}|[0-9A-Fa-f]{2})")
_OCTAL = re.compile(r"[0-7]{1,3}")
_FLAGS = re.compile(r"\(\?([imsU]*)(?:-([imsU]*))?([:)])")
#: Nesting of quantified groups and alternatives the analysis follows (it recurses).
MAX_NESTING = 200


def _fold(mask: int) -> int:
    """``mask`` with the other case of each ASCII letter (``$regexi``, ``(?i)``)."""
    return mask | ((mask & _UPPER) << 32) | ((mask & _LOWER) >> 32)


@dataclass(frozen=True, slots=True)
class _Node:
    """A parsed piece of a pattern and what the analysis needs to know of it.

    ``kind`` is ``set`` (one character from ``mask``), ``empty`` (zero width), ``cat``,
    ``alt`` or ``rep`` (``parts[0]`` repeated ``low`` to ``high`` times, None: no bound).
    """

    kind: str
    mask: int = 0
    parts: tuple[_Node, ...] = ()
    low: int = 1
    high: int | None = 1
    nullable: bool = False
    length: int | None = 1  # None when it can match texts of different lengths
    first: int = 0  # the characters it can start with
    last: int = 0  # the characters it can end with
    #: What a zero-width part asserts: "start" (^ \A), "end" ($ \z), "line" (^ $ in
    #: multi-line mode), "word" (\b \B), or "" for an empty alternative.
    anchor: str = ""


def _set(mask: int) -> _Node:
    return _Node("set", mask=mask, first=mask, last=mask)


def _empty(anchor: str = "") -> _Node:
    return _Node("empty", nullable=True, length=0, anchor=anchor)


def _cat(parts: list[_Node]) -> _Node:
    if len(parts) == 1:
        return parts[0]
    first = last = 0
    for part in parts:
        first |= part.first
        if not part.nullable:
            break
    for part in reversed(parts):
        last |= part.last
        if not part.nullable:
            break
    lengths = [p.length for p in parts]
    return _Node(
        "cat",
        parts=tuple(parts),
        nullable=all(p.nullable for p in parts),
        length=None if None in lengths else sum(n for n in lengths if n is not None),
        first=first,
        last=last,
    )


def _alt(branches: list[_Node]) -> _Node:
    if len(branches) == 1:
        return branches[0]
    first = last = 0
    for branch in branches:
        first, last = first | branch.first, last | branch.last
    lengths = {b.length for b in branches}
    return _Node(
        "alt",
        parts=tuple(branches),
        nullable=any(b.nullable for b in branches),
        length=lengths.pop() if len(lengths) == 1 else None,
        first=first,
        last=last,
    )


def _rep(body: _Node, low: int, high: int | None) -> _Node:
    return _Node(
        "rep",
        parts=(body,),
        low=low,
        high=high,
        nullable=low == 0 or body.nullable,
        length=body.length * low if body.length is not None and low == high else None,
        first=body.first,
        last=body.last,
    )


class _Parser:
    """RE2's syntax, read only as far as the analysis needs; RE2 has validated it."""

    def __init__(self, pattern: str, *, insensitive: bool) -> None:
        self.text = pattern
        self.i = 0
        self.flags = {"i": insensitive, "s": False, "m": False}

    def parse(self) -> _Node:
        # An explicit stack of open groups: RE2 accepts 1,000 nested groups.
        stack: list[tuple[list[_Node], list[_Node], dict[str, bool]]] = []
        branches: list[_Node] = []
        items: list[_Node] = []
        text, end = self.text, len(self.text)
        while self.i < end:
            char = text[self.i]
            if char == "(":
                found = _FLAGS.match(text, self.i)
                if found and found.group(3) == ")":  # (?i): for the rest of the group
                    self._set_flags(found)
                    self.i = found.end()
                    continue
                stack.append((branches, items, dict(self.flags)))
                branches, items = [], []
                if found:  # (?:...) and (?i:...)
                    self._set_flags(found)
                    self.i = found.end()
                elif text.startswith("(?", self.i):  # (?P<name>...) and (?<name>...)
                    self.i = text.index(">", self.i) + 1
                else:
                    self.i += 1
                continue
            if char == ")":
                group = _alt([*branches, _cat(items)])
                branches, items, self.flags = stack.pop()
                items.append(group)
                self.i += 1
                continue
            if char == "|":
                branches.append(_cat(items) if items else _empty())
                items = []
                self.i += 1
                continue
            if char in "*+?" or (char == "{" and items and _REPEAT.match(text, self.i)):
                items[-1] = self._quantify(items[-1])
                continue
            items.append(self._atom())
        return _alt([*branches, _cat(items) if items else _empty()])

    def _set_flags(self, found: re.Match[str]) -> None:
        for flag in found.group(1):
            self.flags[flag] = True
        for flag in found.group(2) or "":
            self.flags[flag] = False

    def _quantify(self, node: _Node) -> _Node:
        text = self.text
        char = text[self.i]
        if char == "{":
            found = _REPEAT.match(text, self.i)
            assert found is not None
            low = int(found.group(1))
            high: int | None = low
            if found.group(2):
                high = int(found.group(3)) if found.group(3) else None
            self.i = found.end()
        else:
            low, high = {"*": (0, None), "+": (1, None), "?": (0, 1)}[char]
            self.i += 1
        if text.startswith("?", self.i):  # lazy: the same positions
            self.i += 1
        return _rep(node, low, high)

    def _atom(self) -> _Node:
        text = self.text
        char = text[self.i]
        self.i += 1
        if char == ".":
            return _set(_ALL if self.flags["s"] else _ALL & ~_NEWLINE)
        if char == "[":
            return _set(self._class())
        if char in "^$":
            if self.flags["m"]:
                return _empty("line")
            return _empty("start" if char == "^" else "end")
        if char == "\\":
            return self._escape()
        return self._literal(_chars(char))

    def _literal(self, mask: int) -> _Node:
        return _set(_fold(mask) if self.flags["i"] else mask)

    def _escape(self) -> _Node:
        text = self.text
        char = text[self.i] if self.i < len(text) else "\\"
        self.i += 1
        if char in "AzbB":
            return _empty({"A": "start", "z": "end"}.get(char, "word"))
        if char == "Q":  # literal text up to \E
            close = text.find("\\E", self.i)
            close = len(text) if close < 0 else close
            quoted, self.i = text[self.i : close], min(close + 2, len(text))
            return _cat([self._literal(_chars(c)) for c in quoted] or [_empty()])
        return _set(self._escaped(char, in_class=False))

    def _escaped(self, char: str, *, in_class: bool) -> int:
        """The characters of the escape ``\\<char>...`` (``self.i`` is past ``char``)."""
        text = self.text
        if char.lower() in _PERL:
            mask = _PERL[char.lower()]
            return _ALL & ~mask if char.isupper() else mask
        if char in "pP":  # a Unicode class: any character, to be safe
            if text.startswith("{", self.i):
                self.i = text.index("}", self.i) + 1
            else:
                self.i += 1
            return _ALL
        if char == "x" and (found := _HEX.match(text, self.i - 1)):
            self.i = found.end()
            code = int(found.group(1).strip("{}"), 16)
            mask = _OTHER if code >= 128 else 1 << code
        elif char.isdigit() and (found := _OCTAL.match(text, self.i - 1)):
            self.i = found.end()
            code = int(found.group(0), 8)
            mask = _OTHER if code >= 128 else 1 << code
        elif char == "C":
            return _ALL
        else:
            mask = _chars(_CONTROL.get(char, char))
        return _fold(mask) if self.flags["i"] and not in_class else mask

    def _class(self) -> int:
        text = self.text
        negate = text.startswith("^", self.i)
        self.i += negate
        mask, start = 0, self.i
        while self.i < len(text) and (text[self.i] != "]" or self.i == start):
            # [:alpha:] stands for any character, to be safe; a "[:" with no ":]"
            # after it is a literal "[" (as RE2 reads it).
            if text.startswith("[:", self.i) and (end := text.find(":]", self.i + 2)) >= 0:
                self.i = end + 2
                mask = _ALL
                continue
            low = self._class_char()
            if (
                isinstance(low, int)
                and text.startswith("-", self.i)
                and (not text.startswith("-]", self.i))
            ):
                self.i += 1
                high = self._class_char()
                mask |= _ALL if not isinstance(high, int) else _span(low, high)
            else:
                mask |= low[0] if isinstance(low, tuple) else _span(low, low)
        self.i += 1  # the closing ]
        if self.flags["i"]:
            mask = _fold(mask)
        return _ALL & ~mask if negate else mask

    def _class_char(self) -> int | tuple[int]:
        """A code point, or ``(mask,)`` for an escape standing for several characters."""
        text = self.text
        char = text[self.i]
        self.i += 1
        if char != "\\":
            return ord(char)
        escaped = text[self.i]
        self.i += 1
        mask = self._escaped(escaped, in_class=True)
        if mask & (mask - 1) == 0 and mask != _OTHER:  # one ASCII character
            return mask.bit_length() - 1
        return (mask,)


class _TooNested(Exception):
    pass


def _positions(node: _Node, depth: int = 0) -> int:
    """The characters ``node`` matches in its longest bounded form (a loop counts once)."""
    if depth > MAX_NESTING:
        raise _TooNested
    if node.kind == "set":
        return 1
    if node.kind == "rep":
        copies = node.high if node.high is not None else max(node.low, 1)
        return copies * _positions(node.parts[0], depth + 1)
    return sum(_positions(part, depth + 1) for part in node.parts)


_DET = "det"  # one attempt, at a known offset
_ANY = "any"  # an attempt starting at every character
Entry = str | int  # _DET, _ANY, or the characters an entry follows
#: Where an attempt at every character can pass an assertion: at the start of the text
#: (^ \A), after a newline (multi-line ^ $), anywhere else for \b \B (to be safe).
_ASSERTED: dict[str, Entry] = {"start": _DET, "line": _NEWLINE}


def _safe(entry: Entry, mask: int) -> bool:
    return entry in (_DET, _ANY) or not (isinstance(entry, int) and entry & mask)


def _join(a: Entry, b: Entry) -> Entry:
    """Entries of either kind. Entries after some characters, added to an attempt at
    every character, break the one attempt per start that makes those safe."""
    if a == b or b == _DET:
        return a
    if a == _DET:
        return b
    return (a if isinstance(a, int) else 0) | (b if isinstance(b, int) else 0)


class _Walk:
    def __init__(self, *, backward: bool) -> None:
        self.backward = backward
        self.risk = 0

    def after(self, node: _Node, entry: Entry) -> Entry:
        """Where the next part may be entered, after ``node`` entered at ``entry``."""
        ends = node.first if self.backward else node.last
        if node.anchor and entry == _ANY:
            # An assertion lets an attempt through at some characters only.
            return _ASSERTED.get(node.anchor, _ALL)
        if node.kind == "empty":
            return entry
        if entry == _DET and node.length is not None:
            return _DET
        # After an optional part (b?, .*), entries from every start no longer line up
        # one per character: RE2's DFA (leftmost-first, leftmost-longest) keeps attempts
        # in order of their start, so these count as entries after its characters.
        if node.nullable and isinstance(entry, int):
            return ends | entry
        return ends

    def visit(self, node: _Node, entry: Entry, times: int, depth: int = 0) -> None:
        if depth > MAX_NESTING:
            raise _TooNested
        kind = node.kind
        if kind == "set":
            if node.mask & (node.mask - 1) and not _safe(entry, node.mask):
                self.risk += times
        elif kind == "cat":
            parts = reversed(node.parts) if self.backward else node.parts
            for part in parts:
                self.visit(part, entry, times, depth + 1)
                entry = self.after(part, entry)
        elif kind == "alt":
            for branch in node.parts:
                self.visit(branch, entry, times, depth + 1)
        elif kind == "rep":
            body = node.parts[0]
            # A loop (* + {n,}) is one position past its counted copies.
            copies = node.high if node.high is not None else node.low
            if body.kind == "set":
                if body.mask & (body.mask - 1) and not _safe(entry, body.mask):
                    self.risk += times * copies
                return
            # Later copies are entered after the body itself.
            again = _DET if entry == _DET and body.length is not None else self.after(body, entry)
            inner = _join(entry, again)
            times *= max(copies, 1)
            if not _safe(inner, body.last if self.backward else body.first):
                # Copies entered while others are inside: every position of the body,
                # single characters too, can be part of a different set of attempts.
                self.risk += times * _positions(body)
                return
            self.visit(body, inner, times, depth + 1)


def dfa_risk(pattern: str, *, insensitive: bool = False) -> int | None:
    """The risky positions of ``pattern`` (see the module's description).

    :returns: the count, or None when the pattern nests groups more than
        :data:`MAX_NESTING` deep with repetitions or alternatives (too deep to follow).
    """
    try:
        tree = _Parser(pattern, insensitive=insensitive).parse()
        parts = tree.parts if tree.kind == "cat" else (tree,)
        starts = bool(parts) and parts[0].anchor == "start"
        ends = bool(parts) and parts[-1].anchor == "end"
        # The scans RE2 runs: forward from the start when anchored there; else backward
        # from the end when anchored there; else forward from every character to find
        # where a match ends, then backward from that end to find where it starts.
        if starts:
            scans = [(False, _DET)]
        elif ends:
            scans = [(True, _DET)]
        else:
            scans = [(False, _ANY), (True, _DET)]
        risk = 0
        for backward, entry in scans:
            walk = _Walk(backward=backward)
            walk.visit(tree, entry, 1)
            risk = max(risk, walk.risk)
    except _TooNested:
        return None
    return risk
