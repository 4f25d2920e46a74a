"""Where a problem is: the line of a path such as ``gates.new_checkout.rules[1].when``.

Only computed when something is wrong. YAML and JSON texts are composed into
libyaml's node tree, which keeps every node's position; TOML has no such parser in
the standard library, so its lines are found from table headers and keys.
"""

from __future__ import annotations

import re
from collections import deque
from typing import Any

import yaml

from flagport.errors import Location
from flagport.local.compiler import Problem
from flagport.local.parsing import MERGE, SafeLoader

__all__ = ["locate", "repeated_keys"]

_TOKEN = re.compile(r"\[(\d+)\]|([^.\[\]]+)")


def _tokens(path: str) -> list[str | int]:
    return [int(i) if i else key for i, key in _TOKEN.findall(path)]


def _compose(text: str) -> Any:
    try:
        return yaml.compose(text, Loader=SafeLoader)
    except (yaml.YAMLError, RecursionError):
        return None


def _keys(node: Any, cache: dict[int, dict[str, tuple[Any, Any]]]) -> dict[str, tuple[Any, Any]]:
    # A mapping's keys by name (first occurrence), built once per mapping: looking a
    # path up is then one dict lookup per step, even in a mapping of 10,000 flags.
    found = cache.get(id(node))
    if found is None:
        found = {}
        for key_node, value_node in node.value:
            found.setdefault(str(key_node.value), (key_node, value_node))
        cache[id(node)] = found
    return found


def _yaml_line(root: Any, path: str, cache: dict[int, dict[str, tuple[Any, Any]]]) -> int | None:
    node = root
    if node is None:
        return None
    tokens = _tokens(path)
    line: int = node.start_mark.line + 1
    i = 0
    while i < len(tokens):
        token = tokens[i]
        if isinstance(node, yaml.SequenceNode) and isinstance(token, int):
            if token >= len(node.value):
                break
            node = node.value[token]
            line = node.start_mark.line + 1
            i += 1
            continue
        if not isinstance(node, yaml.MappingNode):
            break
        matched = False
        # A key may itself contain dots (an attribute path in a condition): try the
        # longest run of tokens that names a key.
        end = next((k for k in range(i, len(tokens)) if isinstance(tokens[k], int)), len(tokens))
        for j in range(end, i, -1):
            pair = _keys(node, cache).get(".".join(str(t) for t in tokens[i:j]))
            if pair is not None:
                line = pair[0].start_mark.line + 1
                node = pair[1]
                i = j
                matched = True
                break
        if not matched:
            break
    return line


# No two parts of either pattern can match the same characters, so a hostile line
# (100,000 spaces) costs one pass, not one per character.
_TOML_HEADER = re.compile(r"^\s*\[\[?([^\[\]#]*)\]\]?\s*(#.*)?$")
_TOML_KEY = re.compile(r"^([^=\[#]*)=")


def _toml_name(text: str) -> tuple[str, ...]:
    return tuple(part.strip().strip("\"'") for part in text.split("."))


class _TomlIndex:
    """The line of each table header and of each key's first line under it, read once."""

    def __init__(self, text: str) -> None:
        self.headers: dict[tuple[str, ...], int] = {}
        self.keys: dict[tuple[tuple[str, ...], str], int] = {}
        table: tuple[str, ...] | None = None
        for number, content in enumerate(text.splitlines(), start=1):
            header = _TOML_HEADER.match(content)
            if header is not None:
                table = _toml_name(header.group(1).strip())
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

    def line(self, path: str) -> int | None:
        tokens = tuple(str(t) for t in _tokens(path) if not isinstance(t, int))
        for length in range(len(tokens), 0, -1):
            found = self.headers.get(tokens[:length])
            if found is None:
                continue
            if length < len(tokens):
                return self.keys.get((tokens[:length], tokens[length]), found)
            return found
        return None


def locate(
    problems: list[Problem], source: str, text: str | None, fmt: str
) -> list[tuple[Location, str]]:
    """Attach a line to each problem (best effort; None when it cannot be found)."""
    located: list[tuple[Location, str]] = []
    # Composed once for all problems: a file with thousands of them is read once.
    root = toml = None
    keys: dict[int, dict[str, tuple[Any, Any]]] = {}
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
