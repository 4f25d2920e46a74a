"""The line of a path such as ``gates.new_checkout.rules[1].when`` in a document's text.

Shared by the TOML index here and the YAML/JSON node index in
:mod:`flagport._documents_yaml`. A key may itself contain dots or brackets (an
attribute path in a condition, a flag named ``a[0]``), so a path is matched against the
keys as written, longest first, never cut at its dots.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

__all__ = ["INDEX", "SyntaxProblem", "TomlIndex", "key_ends", "longest_first"]

#: A list index at the start of the rest of a path: ``[3]``. The patterns here are
#: compiled on first use (``re`` caches them): they serve only a problem's line.
INDEX = r"\[(\d+)\]"


class SyntaxProblem(Exception):
    """A document its parser refused, with the line (when known) and what is wrong."""

    def __init__(self, line: int | None, detail: str) -> None:
        super().__init__(detail)
        self.line = line
        self.detail = detail


def longest_first(names: Iterable[str]) -> tuple[int, ...]:
    """The distinct lengths of ``names``, longest first."""
    return tuple(sorted({len(name) for name in names}, reverse=True))


def key_ends(rest: str, lengths: tuple[int, ...]) -> list[int]:
    """Where a key at the start of ``rest`` may end, longest first.

    Every ``.`` and ``[`` is a possible end, not a certain one; only the lengths some
    key has are tried, so a long hostile key costs no more.
    """
    size = len(rest)
    return [n for n in lengths if n == size or (n < size and rest[n] in ".[")]


# No two parts of either pattern can match the same characters, so a hostile line
# (100,000 spaces) costs one pass, not one per character.
_TOML_HEADER = r"""^\s*\[\[?((?:"[^"]*"|'[^']*'|[^\[\]#"'])*)\]\]?\s*(#.*)?$"""
_TOML_KEY = r"^([^=\[#]*)="
_TOML_PART = r""""([^"]*)"|'([^']*)'|([^."']+)"""
_LEADING_INDEXES = r"^(?:\[\d+\]|\.)*"


def _toml_name(text: str) -> str:
    # Quoted parts may hold dots and brackets (a flag named "a[0]"); the name is its
    # parts joined as a problem's path joins them.
    parts = (
        double or single or bare.strip() for double, single, bare in re.findall(_TOML_PART, text)
    )
    return ".".join(part for part in parts if part)


class TomlIndex:
    """The line of each table header and of each key's first line under it, read once.

    The standard library has no TOML parser that keeps positions, so lines are found
    from the text's table headers and keys.
    """

    def __init__(self, text: str) -> None:
        self.headers: dict[str, int] = {"": 1}
        self.keys: dict[tuple[str, str], int] = {}
        table: str | None = ""
        for number, content in enumerate(text.splitlines(), start=1):
            header = re.match(_TOML_HEADER, content)
            if header is not None:
                table = _toml_name(header.group(1))
                # The first of two equal headers ([[x]] arrays) is where a path points;
                # keys are only looked for under it.
                first = table not in self.headers
                self.headers.setdefault(table, number)
                if not first:
                    table = None
                continue
            key = re.match(_TOML_KEY, content) if table is not None else None
            if key is not None and table is not None:
                self.keys.setdefault((table, key.group(1).strip().strip("\"'")), number)
        self.header_lengths = longest_first(name for name in self.headers if name)
        self.key_lengths = longest_first(key for _, key in self.keys)

    def line(self, path: str) -> int | None:
        """The line of ``path``: the key under the longest table that starts it (an array
        of tables, ``[[x]]``, is one header for all its items: indexes are skipped)."""
        for end in [*key_ends(path, self.header_lengths), 0]:
            table = path[:end]
            found = self.headers.get(table)
            if found is None:
                continue
            rest = re.sub(_LEADING_INDEXES, "", path[end:], count=1)
            for key_end in key_ends(rest, self.key_lengths) if rest else ():
                key = self.keys.get((table, rest[:key_end]))
                if key is not None:
                    return key
            return found if table else None
        return None
