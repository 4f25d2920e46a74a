"""The one reader of the TOML, JSON and YAML documents a person points flagport at.

Settings files, flags files, the migration control file, a vendor's bootstrap payload
and the pytest plugin's known-flags file are all read here, so every one is bounded
the same way and every mistake in one is reported the same way: a
:class:`~flagport.ConfigurationError` naming the file and, for a mistake inside it,
the line and the path (``gates.new_checkout.rules[1].when``).

Bounds on hostile input, for every format:

- at most :data:`MAX_DOCUMENT_BYTES` are read, in 1 MiB chunks, so a small file
  allocates little and a path pointed at a device (``/dev/zero``) or a runaway
  generated file is refused instead of read until memory runs out;
- a named pipe (or socket) is refused, not opened: opening one waits for a writer,
  for ever if none comes, and a file re-read while running would hang its thread;
- nesting deeper than the parser's stack is reported as such, with the line where it
  nests deepest, not as a ``RecursionError``;
- an integer of thousands of digits (which Python refuses to read) is reported with
  its line.

YAML is imported only when a YAML document is read (:mod:`flagport._documents_yaml`);
lines are looked for only when something is wrong (:meth:`Document.locate`).
"""

from __future__ import annotations

import errno
import json
import os
import re
import stat
import sys
from collections.abc import Collection
from pathlib import Path
from typing import Any, BinaryIO, Protocol

from flagport._document_lines import SyntaxProblem, TomlIndex
from flagport.errors import ConfigurationError, Location

__all__ = [
    "FORMATS",
    "MAX_DOCUMENT_BYTES",
    "Document",
    "Problem",
    "document_format",
    "locate",
    "parse_bytes",
    "parse_text",
    "read_bounded",
    "read_document",
    "read_file_bytes",
]

#: The largest document read (a flags file of 300,000 gates is about 20 MiB).
MAX_DOCUMENT_BYTES = 64 * 2**20
_CHUNK_BYTES = 2**20

#: The format of a document by its file's extension.
FORMATS = {".yaml": "yaml", ".yml": "yaml", ".json": "json", ".toml": "toml"}

Problem = tuple[str, str]
"""A path inside a document (``gates.new_checkout.rules[1].when``) and what is wrong."""

# Patterns of the error paths, compiled on first use (``re`` caches them).
_TOML_LINE = r"at line (\d+)"
# Only at the start of a run of digits: from inside one, each start would rescan it.
_TOO_MANY_DIGITS = r"(?<!\d)\d{4301,}"


class _Lines(Protocol):
    def line(self, path: str) -> int | None: ...


class Document:
    """A document read and parsed: its data, and where in its text each part is.

    :ivar data: the parsed value.
    :ivar text: the text it was parsed from.
    :ivar fmt: ``"yaml"``, ``"json"`` or ``"toml"``.
    :ivar source: how messages name it (its path).
    :ivar repeated: some mapping repeats a key (TOML refuses that as a syntax error
        itself; YAML and JSON silently keep the last), or has a key YAML reads as true,
        false or null: :meth:`repeated_keys` says where.
    """

    __slots__ = ("_index", "data", "fmt", "repeated", "source", "text")

    def __init__(self, data: Any, text: str, fmt: str, source: str, repeated: bool) -> None:
        self.data = data
        self.text = text
        self.fmt = fmt
        self.source = source
        self.repeated = repeated
        self._index: Any = None

    def _lines(self) -> Any:
        # Built once, on the first problem: a file with thousands of problems (and
        # repeated keys) is composed once for all of them.
        if self._index is None:
            if self.fmt == "toml":
                self._index = TomlIndex(self.text)
            else:
                from flagport._documents_yaml import NodeIndex, compose

                self._index = NodeIndex(compose(self.text))
        return self._index

    def repeated_keys(self) -> list[Problem]:
        """Every key that repeats within one mapping, with its path (none in TOML)."""
        if not self.repeated or self.fmt == "toml":
            return []
        found: list[Problem] = self._lines().repeated_keys()
        return found

    def locate(self, problems: Collection[Problem]) -> list[tuple[Location, str]]:
        """Each problem with its place: this document, the path and its line (best
        effort: ``None`` when the line cannot be found)."""
        lines: _Lines | None = self._lines() if problems else None
        return [
            (Location(self.source, path, lines.line(path) if lines and path else None), text)
            for path, text in problems
        ]


def locate(
    problems: Collection[Problem], source: str, document: Document | None = None
) -> list[tuple[Location, str]]:
    """Each problem with its place in ``document``, or in ``source`` without lines (data
    given in code has none)."""
    if document is not None:
        return document.locate(problems)
    return [(Location(source, path), text) for path, text in problems]


def document_format(
    path: Path, what: str = "file", formats: Collection[str] = ("yaml", "json", "toml")
) -> str:
    """The format of ``path`` by its extension.

    :param what: what the document is, for the message (``"flags file"``).
    :param formats: the formats accepted.
    :raises ConfigurationError: the extension names none of ``formats``.
    """
    fmt = FORMATS.get(path.suffix.lower())
    if fmt is None or fmt not in formats:
        names = ", ".join(suffix for suffix, known in FORMATS.items() if known in formats)
        raise ConfigurationError(
            f"{path}: unknown {what} type {path.suffix or '(no extension)'!r}; "
            f"name it {' or '.join(names.rsplit(', ', 1))}"
        )
    return fmt


def _load_json(text: str) -> tuple[Any, bool]:
    repeated = False

    def pairs(items: list[tuple[str, Any]]) -> dict[str, Any]:
        nonlocal repeated
        mapping = dict(items)
        if len(mapping) < len(items):
            repeated = True
        return mapping

    return json.loads(text, object_pairs_hook=pairs), repeated


def _load_toml(text: str) -> dict[str, Any]:
    # Imported here: tomllib compiles its regular expressions at import, and reading
    # JSON or YAML (or a pyproject.toml without flagport in it) needs none of them.
    import tomllib

    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        found = re.search(_TOML_LINE, str(exc))
        if found:
            line: int | None = int(found.group(1))
        elif "(at end of document)" in str(exc):
            # tomllib names no line when the text ends too early: the problem is on the
            # last line that holds anything (an unfinished key, string or list).
            line = len(text.rstrip().splitlines()) or 1
        else:
            line = None
        raise SyntaxProblem(line, str(exc)) from None


def _parse(text: str, fmt: str) -> tuple[Any, bool]:
    if fmt == "json":
        return _load_json(text)
    if fmt == "toml":
        return _load_toml(text), False
    from flagport._documents_yaml import load

    return load(text)


def parse_text(text: str, fmt: str, source: str, what: str | None = None) -> Document:
    """Parse ``text`` as ``fmt`` (``"yaml"``, ``"json"`` or ``"toml"``).

    :param source: how messages name the document (its path).
    :param what: what the document is, for messages (``"flags file"``).

    :raises ConfigurationError: a syntax error, a value Python cannot read (an integer
        of thousands of digits) or nesting too deep to read, with its line.
    """
    problem: str | None = None
    try:
        data, repeated = _parse(text, fmt)
        return Document(data, text, fmt, source, repeated)
    except json.JSONDecodeError as exc:
        line: int | None = exc.lineno
        detail = f"{exc.msg} (column {exc.colno})"
    except SyntaxProblem as exc:
        line, detail = exc.line, exc.detail
    except RecursionError:
        line = _deepest_line(text, fmt)
        problem = (
            "nested too deep to read (mappings or lists inside each other hundreds of "
            "times); flatten it"
        )
    except ValueError as exc:
        line, problem = _value_problem(exc, text)
    if problem is None:
        problem = f"syntax error: {detail}; fix the syntax at this line"
    summary = f"{source}: not valid {fmt.upper()}" + (f" ({what})" if what else "")
    raise ConfigurationError(summary, [(Location(source, "", line), problem)])


def _deepest_line(text: str, fmt: str) -> int | None:
    """The line where brackets (JSON, TOML) nest deepest: a hint for "nested too deep"."""
    if fmt == "yaml":
        return None  # libyaml refuses deep nesting itself, with its line
    depth, deepest, line, found = 0, 0, 1, None
    quote = ""
    escaped = False
    for char in text:
        if char == "\n":
            line += 1
        if quote:
            if escaped:
                escaped = False
            elif char == "\\":
                escaped = True
            elif char == quote:
                quote = ""
        elif char in "\"'":
            quote = char
        elif char in "[{":
            depth += 1
            if depth > deepest:
                deepest, found = depth, line
        elif char in "]}":
            depth -= 1
    return found


def _value_problem(exc: ValueError, text: str) -> tuple[int | None, str]:
    """A value the parser could not build (JSON and TOML raise these without a line)."""
    line = getattr(exc, "line", None)
    digits = re.search(_TOO_MANY_DIGITS, text)
    if digits is not None:
        line = line or text.count("\n", 0, digits.start()) + 1
        count = digits.end() - digits.start()
        return line, (
            f"a number of {count:,} digits is longer than Python reads "
            f"({sys.get_int_max_str_digits():,}); write it as a string"
        )
    return line, f"cannot read a value: {exc}; fix it at this line"


def _read_at_most(fh: BinaryIO, limit: int) -> bytes:
    """Up to ``limit`` bytes, read in chunks: ``read(limit)`` would allocate ``limit``
    bytes up front for every file, however small."""
    chunks: list[bytes] = []
    total = 0
    while total < limit:
        chunk = fh.read(min(_CHUNK_BYTES, limit - total))
        if not chunk:
            break
        chunks.append(chunk)
        total += len(chunk)
    return b"".join(chunks)


def read_bounded(path: str | Path, limit: int = MAX_DOCUMENT_BYTES + 1) -> bytes:
    """Up to ``limit`` bytes of the file at ``path`` (see the module's docstring).

    :raises OSError: the file cannot be read, or is a named pipe or a socket.
    """
    # Non-blocking, so that opening a pipe without a writer returns at once.
    fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0))
    with os.fdopen(fd, "rb") as fh:
        mode = os.fstat(fd).st_mode
        if stat.S_ISFIFO(mode) or stat.S_ISSOCK(mode):
            raise OSError(errno.EINVAL, "a named pipe or socket, not a file")
        return _read_at_most(fh, limit)


def read_document(
    path: str | Path,
    *,
    what: str = "file",
    fix: str = "check the path",
    fmt: str | None = None,
    formats: Collection[str] = ("yaml", "json", "toml"),
    empty: str | None = None,
) -> Document:
    """Read and parse the document in ``path``, bounded (see the module's docstring).

    :param what: what the document is, for messages (``"flags file"``).
    :param fix: what to do when the file cannot be read.
    :param fmt: its format whatever its extension; by default chosen by the extension.
    :param formats: the formats accepted by extension.
    :param empty: the message for a file holding only white space; by default such a
        file is parsed (an empty TOML table, a YAML null, a JSON syntax error).
    :raises ConfigurationError: unreadable, an unknown extension, too large, not UTF-8,
        empty (with ``empty``), or not valid in its format (with the line).
    """
    file = Path(path)
    if file.is_dir():  # before the extension: a folder has none, and that is not the fix
        raise ConfigurationError(f"{file}: is a folder, not a {what}; give the {what}'s path")
    fmt = fmt or document_format(file, what, formats)
    return parse_bytes(read_file_bytes(file, what, fix), fmt, str(file), what=what, empty=empty)


def read_file_bytes(path: str | Path, what: str = "file", fix: str = "check the path") -> bytes:
    """The bytes of the file at ``path``, bounded as :func:`read_document` reads them.

    :raises ConfigurationError: the file cannot be read, naming ``what`` and ``fix``.
    """
    try:
        return read_bounded(path)
    except OSError as exc:
        raise ConfigurationError(
            f"{path}: cannot read the {what} ({exc.strerror or exc}); {fix}"
        ) from None


def parse_bytes(
    raw: bytes, fmt: str, source: str, *, what: str = "file", empty: str | None = None
) -> Document:
    """Decode and parse a document's bytes, read from disk or fetched from a URL.

    :param source: where the bytes came from, named in every problem.
    :param what: what the document is, for messages.
    :param empty: the message for a document holding only white space (see
        :func:`read_document`).
    :raises ConfigurationError: too large, not UTF-8, empty (with ``empty``), or not
        valid in its format (with the line).
    """
    if len(raw) > MAX_DOCUMENT_BYTES:
        raise ConfigurationError(
            f"{source}: the {what} is larger than {MAX_DOCUMENT_BYTES // 2**20} MiB, the most "
            f"flagport reads; check that the path names a {what}, or split the file"
        )
    try:
        # A byte-order mark is what Windows editors put first in UTF-8: YAML's reader skips
        # it, JSON's and TOML's would call the first line a syntax error.
        text = raw.decode("utf-8").removeprefix("\ufeff")
    except UnicodeDecodeError as exc:
        raise ConfigurationError(f"{source}: not UTF-8 text ({exc}); save it as UTF-8") from None
    if empty is not None and not text.strip():
        raise ConfigurationError(f"{source}: {empty}")
    return parse_text(text, fmt, source, what)
