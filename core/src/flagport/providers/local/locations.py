"""Where a problem is: the line of a path such as ``gates.new_checkout.rules[1].when``.

Only computed when something is wrong. YAML and JSON texts are composed into
libyaml's node tree, which keeps every node's position; TOML has no such parser in
the standard library, so its lines are found from table headers and keys.
"""

from __future__ import annotations

import re
from collections import deque
from collections.abc import Iterable
from typing import Any

import yaml

from flagport.errors import Location
from flagport.providers.local.compiler import Problem
from flagport.providers.local.parsing import MERGE, SafeLoader

__all__ = ["locate", "repeated_keys"]


def _compose(text: str) -> Any:
    try:
        return yaml.compose(text, Loader=SafeLoader)
    except (yaml.YAMLError, RecursionError):
        return None


_Keys = tuple[dict[str, tuple[Any, Any]], tuple[int, ...]]


def _keys(node: Any, cache: dict[int, _Keys]) -> _Keys:
    # A mapping's keys by name (first occurrence) and their lengths, built once per
    # mapping: looking a path up is then a few dict lookups per step, even in a mapping
    # of 10,000 flags.
    found = cache.get(id(node))
    if found is None:
        names: dict[str, tuple[Any, Any]] = {}
        for key_node, value_node in node.value:
            names.setdefault(str(key_node.value), (key_node, value_node))
        found = cache[id(node)] = (names, _longest_first(names))
    return found


_INDEX = re.compile(r"\[(\d+)\]")


def _longest_first(names: Iterable[str]) -> tuple[int, ...]:
    return tuple(sorted({len(name) for name in names}, reverse=True))


def _key_ends(rest: str, lengths: tuple[int, ...]) -> list[int]:
    """Where a key at the start of ``rest`` may end, longest first.

    A key may itself contain dots or brackets (an attribute path in a condition, a
    flag named ``a[0]``), so every ``.`` and ``[`` is a possible end, not a certain one;
    only the lengths some key has are tried, so a long hostile key costs no more.
    """
    size = len(rest)
    return [n for n in lengths if n == size or (n < size and rest[n] in ".[")]


def _yaml_line(root: Any, path: str, cache: dict[int, _Keys]) -> int | None:
    node = root
    if node is None:
        return None
    line: int = node.start_mark.line + 1
    rest = path
    while rest:
        if isinstance(node, yaml.SequenceNode):
            index = _INDEX.match(rest)
            if index is None or int(index.group(1)) >= len(node.value):
                break
            node = node.value[int(index.group(1))]
            line = node.start_mark.line + 1
            rest = rest[index.end() :]
        elif isinstance(node, yaml.MappingNode):
            # Matched against the keys as written, the longest key that fits: the path
            # is the keys joined, so cutting it at brackets first would misread a key
            # with brackets as list indexes.
            keys, lengths = _keys(node, cache)
            for end in _key_ends(rest, lengths):
                pair = keys.get(rest[:end])
                if pair is not None:
                    line = pair[0].start_mark.line + 1
                    node = pair[1]
                    rest = rest[end:]
                    break
            else:
                break
        else:
            break
        rest = rest.removeprefix(".")
    return line


# No two parts of either pattern can match the same characters, so a hostile line
# (100,000 spaces) costs one pass, not one per character.
_TOML_HEADER = re.compile(r"""^\s*\[\[?((?:"[^"]*"|'[^']*'|[^\[\]#"'])*)\]\]?\s*(#.*)?$""")
_TOML_KEY = re.compile(r"^([^=\[#]*)=")
_TOML_PART = re.compile(r""""([^"]*)"|'([^']*)'|([^."']+)""")
_LEADING_INDEXES = re.compile(r"^(?:\[\d+\]|\.)*")


def _toml_name(text: str) -> str:
    # Quoted parts may hold dots and brackets (a flag named "a[0]"); the name is its
    # parts joined as a problem's path joins them.
    parts = (double or single or bare.strip() for double, single, bare in _TOML_PART.findall(text))
    return ".".join(part for part in parts if part)


class _TomlIndex:
    """The line of each table header and of each key's first line under it, read once."""

    def __init__(self, text: str) -> None:
        self.headers: dict[str, int] = {}
        self.keys: dict[tuple[str, str], int] = {}
        table: str | None = None
        for number, content in enumerate(text.splitlines(), start=1):
            header = _TOML_HEADER.match(content)
            if header is not None:
                table = _toml_name(header.group(1))
                # The first of two equal headers ([[x]] arrays) is where a path points;
                # keys are only looked for under it.
                first = table not in self.headers
                self.headers.setdefault(table, number)
                if not first:
                    table = None
                continue
            key = _TOML_KEY.match(content) if table is not None else None
            if key is not None and table is not None:
                self.keys.setdefault((table, key.group(1).strip().strip("\"'")), number)
        self.header_lengths = _longest_first(self.headers)
        self.key_lengths = _longest_first(key for _, key in self.keys)

    def line(self, path: str) -> int | None:
        # The longest start of the path that is a table, then the key under it (an
        # array of tables, [[x]], is one header for all its items: indexes are skipped).
        for end in _key_ends(path, self.header_lengths):
            found = self.headers.get(path[:end])
            if found is None:
                continue
            rest = _LEADING_INDEXES.sub("", path[end:], count=1)
            for key_end in _key_ends(rest, self.key_lengths) if rest else ():
                key = self.keys.get((path[:end], rest[:key_end]))
                if key is not None:
                    return key
            return found
        return None


def locate(
    problems: list[Problem], source: str, text: str | None, fmt: str
) -> list[tuple[Location, str]]:
    """Attach a line to each problem (best effort; None when it cannot be found)."""
    located: list[tuple[Location, str]] = []
    # Composed once for all problems: a file with thousands of them is read once.
    root = toml = None
    keys: dict[int, _Keys] = {}
    if text is not None and problems:
        if fmt == "toml":
            toml = _TomlIndex(text)
        else:
            root = _compose(text)
    for path, message in problems:
        line = None
        if text is not None and path:
            line = toml.line(path) if toml is not None else _yaml_line(root, path, keys)
        located.append((Location(source, path, line), message))
    return located


def repeated_keys(text: str) -> list[Problem]:
    """Every key that repeats within one mapping of a YAML or JSON text, with its path.

    Only called when parsing noticed a repeat, as it walks the whole node tree (each
    node once: a node shared through aliases is reported at its first path).
    """
    root = _compose(text)
    if root is None:
        return [("", "a key appears twice in one mapping; only the last would be used")]
    problems: list[Problem] = []
    # Breadth first, so a shared node is reported at its shortest path.
    pending: deque[tuple[Any, str]] = deque([(root, "")])
    # An alias shares its anchor's node: look at each node once, or a file of aliases
    # of aliases (or an alias inside its own anchor) would be walked without end.
    seen: set[int] = set()
    while pending:
        node, path = pending.popleft()
        if id(node) in seen:
            continue
        seen.add(id(node))
        if isinstance(node, yaml.SequenceNode):
            pending.extend((child, f"{path}[{i}]") for i, child in enumerate(node.value))
        elif isinstance(node, yaml.MappingNode):
            first: dict[str, int] = {}
            for key_node, value_node in node.value:
                key = str(key_node.value)
                here = f"{path}.{key}" if path else key
                line = key_node.start_mark.line + 1
                if key in first and key_node.tag != MERGE:
                    problems.append(
                        (
                            here,
                            f"{key!r} appears twice here (lines {first[key]} and {line}); only "
                            "the last would be used: remove or rename one",
                        )
                    )
                else:
                    first[key] = line
                pending.append((value_node, here))
    return problems
