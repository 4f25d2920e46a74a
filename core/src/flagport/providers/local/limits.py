"""Bounds on what a flags file may hold, so a small hostile file cannot exhaust a process.

A YAML file is a graph, not a tree: an alias (``*a``) makes a second reference to an
anchored node, so ten aliases per level over seven levels describe ten million
conditions in 700 bytes, and an alias inside its own anchor describes an infinite
one. JSON and TOML files are trees, but can nest deeper than Python's stack. Before
anything recursive sees a condition or a value (compiling, freezing, encoding), an
:class:`Audit` walks it without recursion and refuses, with the path of the place:

- a value that contains itself (a cycle through an alias);
- nesting deeper than :data:`MAX_DEPTH` mappings and lists;
- a condition larger than :data:`MAX_CONDITION_SIZE` values with aliases expanded
  (evaluating a condition visits every part of it, shared or not);
- more than :data:`MAX_ALIAS_GROWTH` values added to the file by aliases;
- a float that is not finite (``.inf``, ``.nan``, ``1e999``): JSON has no such
  number, so it could not be served to an application as JSON;
- any other scalar JSON cannot write: a date (YAML and TOML read an unquoted
  ``2024-01-01`` as one, and a rule comparing with it never matched the string an
  application passes), ``!!binary`` bytes, a ``!!set``.

Each value JSON cannot write is reported (up to :data:`MAX_VALUE_PROBLEMS` in a file);
the first problem of shape (cycle, depth, size, expansion) ends the walk. Sizes are
memoised by identity, so the walk costs one step per distinct value and one
per alias, however large the expansion.
"""

from __future__ import annotations

import datetime
import math
from collections.abc import Iterator, Mapping
from typing import Any

from flagport._wording import with_article

__all__ = [
    "MAX_ALIAS_GROWTH",
    "MAX_CONDITION_SIZE",
    "MAX_DEPTH",
    "MAX_VALUE_PROBLEMS",
    "Audit",
    "Problem",
]

Problem = tuple[str, str]
"""A path inside the file (``gates.new_checkout.rules[1].when``) and what is wrong."""

#: Mappings and lists nested inside one condition or value.
MAX_DEPTH = 64
#: Values in one condition, counted with every alias expanded.
MAX_CONDITION_SIZE = 10_000
#: Values that YAML aliases may add to one file, counted with every alias expanded.
MAX_ALIAS_GROWTH = 1_000_000
#: Values JSON cannot write (``.inf``, a date) reported in one file, each with its place;
#: past this many one more problem says so and the walk stops.
MAX_VALUE_PROBLEMS = 50

_CONTAINERS = (Mapping, list, tuple)
_PLAIN = frozenset({str, int, bool, type(None)})
_INF = math.inf
_OPEN = object()  # marks a container whose walk has started and not finished
_STOP: tuple[str, str] = ("", "")  # stops a walk whose problem was already reported


def _step(path: str, key: Any) -> str:
    if isinstance(key, int):
        return f"{path}[{key}]"
    return f"{path}.{key}" if path else str(key)


def _children(node: Any) -> Iterator[tuple[Any, Any]]:
    if isinstance(node, Mapping):
        return iter(node.items())
    return enumerate(node)


def _flat_size(node: Any) -> int:
    """1 + the number of children when none is a container or a non-finite float, else 0.

    Most conditions and values are small mappings and lists of plain values: they are
    measured by this one loop, without a frame, a path or a memo entry. (None of them
    can close a cycle; a list of aliases to one of them is a container of its own.)
    """
    for item in node.values() if isinstance(node, Mapping) else node:
        if item.__class__ in _PLAIN:
            continue  # the usual case, without an ABC isinstance check
        if isinstance(item, _CONTAINERS) or not (isinstance(item, float) and -_INF < item < _INF):
            return 0  # a container, or a scalar for _scalar to judge (inf, a date...)
    return len(node) + 1


def _too_deep(root: str, where: str) -> Problem:
    # Reported where the deep value starts: its full path would be 64 steps long.
    inside = where[len(root) :] if where.startswith(root) else where
    shown = inside if len(inside) <= 60 else f"{inside[:28]}...{inside[-28:]}"
    return (
        root,
        f"nested more than {MAX_DEPTH} mappings or lists deep (at {shown or 'this value'}); "
        "flatten it: conditions rarely need more than a few levels of $and/$or/$not",
    )


def _not_json(value: Any) -> str:
    # A date never equals the string an application passes, so a rule comparing with
    # one silently never matches; bytes and sets cannot be served as JSON.
    if isinstance(value, datetime.date | datetime.time):
        return (
            f"{value!r} is a date or time, which JSON has no way to write (YAML and TOML "
            "read an unquoted 2024-01-01 as one); quote it to make it a string"
        )
    return (
        f"{with_article(type(value).__name__)} is not a JSON value (a YAML tag such as !!binary or "
        "!!set makes one); write a string, number, boolean, null, list or mapping"
    )


class Audit:
    """Checks the conditions and values of one file against the limits.

    One audit is used for a whole file, so a node shared by two conditions (an anchor
    used in several flags) is counted as added by aliases the second time.
    """

    def __init__(self) -> None:
        # id -> (expanded size, height) of each container walked, or _OPEN during its
        # walk. The containers stay alive in the parsed data, so ids are not reused.
        self.sizes: dict[int, Any] = {}
        self.added = 0
        #: Aliases added more than :data:`MAX_ALIAS_GROWTH` values; reported once, after
        #: which nothing more of the file should be compiled.
        self.exhausted = False
        self.bad_values = 0  # values JSON cannot write, found so far in the file
        self._found: list[Problem] = []

    def check(self, value: Any, path: str, *, max_size: int | None = None) -> list[Problem]:
        """Walk ``value`` (a condition or a value of the file) and report what breaks a limit.

        :param path: where ``value`` is in the file, prefixed to every problem's path.
        :param max_size: the most values ``value`` may hold with aliases expanded
            (:data:`MAX_CONDITION_SIZE` for a condition); None for no limit of its own.
        :returns: each value JSON cannot write (up to :data:`MAX_VALUE_PROBLEMS` in
            the file), then at most one problem of shape: the walk stops there, as what
            lies beyond a cycle or an expansion is not worth reporting.
        """
        self._found = []
        if not isinstance(value, _CONTAINERS):
            stop = self._note(self._scalar(value, path), path)
            return self._found if stop is None or stop is _STOP else [*self._found, stop]
        size = _flat_size(value) or self._shallow_size(value)
        if not size:
            size, problem = self._walk(value, path)
            if problem is _STOP:
                return self._found
            if problem is not None:
                return [*self._found, problem]
        if max_size is not None and size > max_size:
            return [
                *self._found,
                (
                    path,
                    f"this condition has {size:,} parts (each YAML alias counted as a copy), "
                    f"more than the {max_size:,} a condition may have (every part is evaluated); "
                    "put long lists of values in a segment or split the rule",
                ),
            ]
        return self._found

    def _note(self, problems: list[Problem], path: str) -> Problem | None:
        """Record the problems of a value JSON cannot write; a problem to stop at when too many."""
        if not problems:
            return None
        self.bad_values += 1
        if self.bad_values <= MAX_VALUE_PROBLEMS:
            self._found.extend(problems)
            return None
        # Nothing more of the file is compiled: it is refused, and a condition behind
        # aliases of aliases would be expanded by compiling it.
        self.exhausted = True
        if self.bad_values > MAX_VALUE_PROBLEMS + 1:
            return _STOP
        return (
            path,
            f"more than {MAX_VALUE_PROBLEMS} values JSON cannot write in this file (the "
            "first are reported above); fix those and load it again",
        )

    @staticmethod
    def _scalar(value: Any, path: str) -> list[Problem]:
        if isinstance(value, float) and not math.isfinite(value):
            return [
                (
                    path,
                    f"{value!r} is not a finite number and JSON has no way to write it; "
                    "use a finite number (or a string)",
                )
            ]
        if not (value is None or isinstance(value, str | int | float)):
            return [(path, _not_json(value))]
        return []

    def _shallow_size(self, root: Any) -> int:
        """The size of a container of plain values and flat containers, else 0.

        Most conditions are one level deeper than flat (``{country: US, app_version:
        {$vgte: 2.0.0}}``): measured by this loop, they skip the walk's frames and
        paths. The root is memoised as :meth:`_walk` would (an alias to it is counted
        against the budget); anything else (a container seen before, a deeper one, a
        value JSON cannot write) is left to the walk.
        """
        sizes = self.sizes
        if id(root) in sizes:
            return 0
        size = 1
        for item in root.values() if isinstance(root, Mapping) else root:
            if item.__class__ in _PLAIN or (item.__class__ is float and -_INF < item < _INF):
                size += 1
                continue
            if not isinstance(item, _CONTAINERS) or id(item) in sizes:
                return 0
            flat = _flat_size(item)
            if not flat:
                return 0
            size += flat
        sizes[id(root)] = (size, 1)
        return size

    def _walk(self, root: Any, path: str) -> tuple[int, Problem | None]:
        # An explicit stack (not recursion): each frame is a container, its path, its
        # remaining children, and the size and height gathered so far.
        sizes = self.sizes
        if (known := sizes.get(id(root))) is not None and known is not _OPEN:
            return self._repeat(known, path, 0)
        sizes[id(root)] = _OPEN
        stack: list[list[Any]] = [[root, path, iter(_children(root)), 1, 0, False]]
        try:
            return self._unwind(stack)
        finally:
            # Containers left open by a problem may be walked again from elsewhere.
            for frame in stack:
                if sizes.get(id(frame[0])) is _OPEN:
                    del sizes[id(frame[0])]

    def _unwind(self, stack: list[list[Any]]) -> tuple[int, Problem | None]:
        sizes = self.sizes
        while stack:
            frame = stack[-1]
            for key, child in frame[2]:
                if not isinstance(child, _CONTAINERS):
                    frame[3] += 1
                    if child is None or isinstance(child, str | int):
                        continue
                    where = _step(frame[1], key)
                    if problems := self._scalar(child, where):
                        # Every such value is reported, so the walk goes on; the
                        # container is not memoised, so an alias to it reports again.
                        frame[5] = True
                        if (too_many := self._note(problems, where)) is not None:
                            return 0, too_many
                    continue
                where = _step(frame[1], key)
                known = sizes.get(id(child))
                if known is _OPEN:
                    return 0, (
                        where,
                        "this value contains itself (a YAML alias inside its own anchor), "
                        "so it has no end; refer to a node defined before it instead",
                    )
                if known is not None:
                    _, problem = self._repeat(known, where, len(stack))
                    if problem is not None:
                        return 0, problem
                    frame[3] += known[0]
                    frame[4] = max(frame[4], known[1] + 1)
                    continue
                if len(stack) >= MAX_DEPTH:
                    return 0, _too_deep(stack[0][1], where)
                flat = _flat_size(child)
                if flat:
                    frame[3] += flat
                    frame[4] = max(frame[4], 1)
                    continue
                sizes[id(child)] = _OPEN
                stack.append([child, where, iter(_children(child)), 1, 0, False])
                break
            else:
                stack.pop()
                node, _, _, size, height, bad = frame
                if bad:
                    del sizes[id(node)]
                else:
                    sizes[id(node)] = (size, height)
                if stack:
                    parent = stack[-1]
                    parent[3] += size
                    parent[4] = max(parent[4], height + 1)
                    parent[5] = parent[5] or bad
                else:
                    return size, None
        raise AssertionError("unreachable")  # pragma: no cover

    def _repeat(self, known: tuple[int, int], where: str, depth: int) -> tuple[int, Problem | None]:
        """Count a second reference to a walked container (an alias)."""
        size, height = known
        if depth + height >= MAX_DEPTH:
            return 0, _too_deep(where, where)
        self.added += size
        if self.added > MAX_ALIAS_GROWTH and not self.exhausted:
            self.exhausted = True
            return 0, (
                where,
                f"YAML aliases expand this file by more than {MAX_ALIAS_GROWTH:,} values "
                "(reached at this alias); write the shared part once, for example as a "
                "segment, instead of nesting aliases of aliases",
            )
        return size, None
