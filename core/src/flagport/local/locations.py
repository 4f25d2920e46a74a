"""Where a problem is: the line of a path such as ``gates.new_checkout.rules[1].when``.

Only computed when something is wrong. YAML and JSON texts are composed into
libyaml's node tree, which keeps every node's position; TOML has no such parser in
the standard library, so its lines are found from table headers and keys.
"""

from __future__ import annotations

import re
from typing import Any

import yaml

from flagport.errors import Location
from flagport.local.compiler import Problem
from flagport.local.parsing import MERGE, SafeLoader

__all__ = ["locate", "repeated_keys"]

_TOKEN = re.compile(r"\[(\d+)\]|([^.\[\]]+)")


def _tokens(path: str) -> list[str | int]:
    return [int(i) if i else key for i, key in _TOKEN.findall(path)]


def _yaml_line(text: str, path: str) -> int | None:
    try:
        node = yaml.compose(text, Loader=SafeLoader)
    except yaml.YAMLError:
        return None
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
        for j in range(len(tokens), i, -1):
            if any(isinstance(t, int) for t in tokens[i:j]):
                continue
            wanted = ".".join(str(t) for t in tokens[i:j])
            for key_node, value_node in node.value:
                if str(key_node.value) == wanted:
                    line = key_node.start_mark.line + 1
                    node = value_node
                    i = j
                    matched = True
                    break
            if matched:
                break
        if not matched:
            break
    return line


def _toml_line(text: str, path: str) -> int | None:
    tokens = [t for t in _tokens(path) if not isinstance(t, int)]
    lines = text.splitlines()
    best: int | None = None
    for length in range(len(tokens), 0, -1):
        dotted = r"\s*\.\s*".join(rf"[\"']?{re.escape(str(t))}[\"']?" for t in tokens[:length])
        header = re.compile(rf"^\s*\[\[?\s*{dotted}\s*\]\]?\s*(#.*)?$")
        for number, content in enumerate(lines, start=1):
            if header.match(content):
                best = number
                if length < len(tokens):
                    key = re.compile(rf"^\s*[\"']?{re.escape(str(tokens[length]))}[\"']?\s*=")
                    for offset, rest in enumerate(lines[number:], start=number + 1):
                        if rest.lstrip().startswith("["):
                            break
                        if key.match(rest):
                            return offset
                return best
    return best


def locate(
    problems: list[Problem], source: str, text: str | None, fmt: str
) -> list[tuple[Location, str]]:
    """Attach a line to each problem (best effort; None when it cannot be found)."""
    located: list[tuple[Location, str]] = []
    for path, message in problems:
        line = None
        if text is not None and path:
            line = _toml_line(text, path) if fmt == "toml" else _yaml_line(text, path)
        located.append((Location(source, path, line), message))
    return located


def repeated_keys(text: str) -> list[Problem]:
    """Every key that repeats within one mapping of a YAML or JSON text, with its path.

    Only called when parsing noticed a repeat, as it walks the whole node tree.
    """
    try:
        root = yaml.compose(text, Loader=SafeLoader)
    except yaml.YAMLError:
        root = None
    if root is None:
        return [("", "a key appears twice in one mapping; only the last would be used")]
    problems: list[Problem] = []
    pending: list[tuple[Any, str]] = [(root, "")]
    while pending:
        node, path = pending.pop()
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
