"""Reading flags files: YAML, JSON or TOML, chosen by the file's extension.

Syntax errors become :class:`~flagport.ConfigurationError` with their line. YAML is
parsed by libyaml when it is installed, and values are built straight from its node
tree (see :class:`_Builder`).
"""

from __future__ import annotations

import json
import re
import sys
import tomllib
from pathlib import Path
from typing import Any, BinaryIO, NamedTuple

import yaml

from flagport.errors import ConfigurationError, Location

__all__ = [
    "FORMATS",
    "MAX_FILE_BYTES",
    "Parsed",
    "file_format",
    "parse_bytes",
    "parse_file",
    "parse_text",
]

#: The largest flags file read (a file of 300,000 gates is about 20 MiB).
MAX_FILE_BYTES = 64 * 2**20
_CHUNK_BYTES = 2**20

FORMATS = {".yaml": "yaml", ".yml": "yaml", ".json": "json", ".toml": "toml"}
SafeLoader: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
MERGE = "tag:yaml.org,2002:merge"
_TOML_LINE = re.compile(r"at line (\d+)")


def file_format(path: Path) -> str:
    """The format of ``path`` by its extension.

    :raises ConfigurationError: the extension is not .yaml/.yml/.json/.toml.
    """
    fmt = FORMATS.get(path.suffix.lower())
    if fmt is None:
        raise ConfigurationError(
            f"{path}: unknown flags file type {path.suffix or '(no extension)'!r}; "
            "name it .yaml, .yml, .json or .toml"
        )
    return fmt


_STR = "tag:yaml.org,2002:str"
_INT = "tag:yaml.org,2002:int"
_BOOL = "tag:yaml.org,2002:bool"
_NULL = "tag:yaml.org,2002:null"
_SEQ = "tag:yaml.org,2002:seq"
_MAP = "tag:yaml.org,2002:map"


class _Builder:
    """Python values from a composed YAML node tree, like ``yaml.safe_load``, faster.

    PyYAML's constructor spends most of a large file's load time in generic
    machinery; plain strings, decimal integers, booleans, nulls, mappings and lists
    (all a flags file holds) are built directly here, and anything else (floats,
    octal or sexagesimal integers, timestamps, merge keys) is handed to PyYAML's own
    constructor. It also notes whether any mapping repeats a key: YAML silently keeps
    the last of two equal keys, so a gate defined twice would lose its first
    definition without a word.
    """

    def __init__(self, loader: Any) -> None:
        self.loader = loader
        self.repeated = False
        self.built: dict[int, Any] = {}  # aliases share a node: build it once

    def value(self, node: Any) -> Any:
        if isinstance(node, yaml.ScalarNode):
            try:
                return self.scalar(node)
            except ValueError as exc:  # too many digits, a 13th month, ...
                raise _ScalarError(node.start_mark.line + 1, str(exc)) from None
        found = self.built.get(id(node))
        if found is not None:
            return found
        if isinstance(node, yaml.SequenceNode) and node.tag == _SEQ:
            items: list[Any] = []
            self.built[id(node)] = items
            items.extend(self.value(child) for child in node.value)
            return items
        if isinstance(node, yaml.MappingNode):
            # A tagged mapping (!!set) is PyYAML's to build, so the audit sees a set and
            # refuses it, instead of a mapping of nulls served as if it were written so.
            if node.tag != _MAP or any(key.tag == MERGE for key, _ in node.value):
                return self.loader.construct_object(node, deep=True)
            mapping: dict[Any, Any] = {}
            self.built[id(node)] = mapping
            for key_node, value_node in node.value:
                key = self.value(key_node)
                try:
                    hash(key)
                except TypeError:
                    raise yaml.constructor.ConstructorError(
                        "while building a mapping",
                        node.start_mark,
                        "found an unhashable key",
                        key_node.start_mark,
                    ) from None
                if key in mapping:
                    self.repeated = True
                mapping[key] = self.value(value_node)
            return mapping
        return self.loader.construct_object(node, deep=True)

    def scalar(self, node: Any) -> Any:
        tag, text = node.tag, node.value
        if tag == _STR:
            return text
        if tag == _INT and text.isdigit() and (text[0] != "0" or text == "0"):
            return int(text)
        if tag == _BOOL:
            return self.loader.bool_values[text.lower()]
        if tag == _NULL:
            return None
        return self.loader.construct_object(node, deep=True)


class _ScalarError(ValueError):
    """A YAML scalar Python cannot build, with the line it is on."""

    def __init__(self, line: int, message: str) -> None:
        super().__init__(message)
        self.line = line


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


# Only at the start of a run of digits: from inside one, each start would rescan it.
_TOO_MANY_DIGITS = re.compile(r"(?<!\d)\d{4301,}")


def _load_json(text: str) -> tuple[Any, bool]:
    repeated = False

    def pairs(items: list[tuple[str, Any]]) -> dict[str, Any]:
        nonlocal repeated
        mapping = dict(items)
        if len(mapping) < len(items):
            repeated = True
        return mapping

    return json.loads(text, object_pairs_hook=pairs), repeated


def _load_yaml(text: str) -> tuple[Any, bool]:
    loader = SafeLoader(text)
    try:
        node = loader.get_single_node()
        if node is None:
            return None, False
        builder = _Builder(loader)
        return builder.value(node), builder.repeated
    finally:
        loader.dispose()


def parse_text(text: str, fmt: str, source: str) -> tuple[Any, bool]:
    """Parse ``text`` as ``fmt``.

    :returns: the data, and whether some mapping repeated a key (TOML refuses that
        as a syntax error itself).
    :raises ConfigurationError: a syntax error, a value Python cannot read (an integer
        of thousands of digits) or nesting too deep to read, with its line.
    """
    problem: str | None = None
    try:
        if fmt == "json":
            return _load_json(text)
        if fmt == "toml":
            return tomllib.loads(text), False
        return _load_yaml(text)
    except json.JSONDecodeError as exc:
        line: int | None = exc.lineno
        detail = f"{exc.msg} (column {exc.colno})"
    except tomllib.TOMLDecodeError as exc:
        found = _TOML_LINE.search(str(exc))
        line = int(found.group(1)) if found else None
        detail = str(exc)
    except RecursionError:
        line = _deepest_line(text, fmt)
        problem = (
            "nested too deep to read (mappings or lists inside each other hundreds of "
            "times); flatten it"
        )
    except ValueError as exc:
        line, problem = _value_problem(exc, text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark is not None else None
        parts = [getattr(exc, "context", None), getattr(exc, "problem", None)]
        detail = ", ".join(p for p in parts if p) or " ".join(str(exc).split())
        if mark is not None:
            detail += f" (column {mark.column + 1})"
    if problem is None:
        problem = f"syntax error: {detail}; fix the syntax at this line"
    raise ConfigurationError(
        f"{source}: not valid {fmt.upper()}", [(Location(source, "", line), problem)]
    )


def _value_problem(exc: ValueError, text: str) -> tuple[int | None, str]:
    """A value the parser could not build (JSON and TOML raise these without a line)."""
    line = getattr(exc, "line", None)
    digits = _TOO_MANY_DIGITS.search(text)
    if digits is not None:
        line = line or text.count("\n", 0, digits.start()) + 1
        count = digits.end() - digits.start()
        return line, (
            f"a number of {count:,} digits is longer than Python reads "
            f"({sys.get_int_max_str_digits():,}); write it as a string"
        )
    return line, f"cannot read a value: {exc}; fix it at this line"


class Parsed(NamedTuple):
    """A flags file read and parsed.

    :ivar repeated: some mapping in the file repeats a key (see :func:`repeated_keys`).
    """

    data: Any
    text: str
    fmt: str
    repeated: bool = False


def _read_at_most(fh: BinaryIO, limit: int) -> bytes:
    """Up to ``limit`` bytes, read in chunks: ``read(limit)`` would allocate ``limit`` bytes
    up front for every file, however small."""
    chunks: list[bytes] = []
    total = 0
    while total < limit:
        chunk = fh.read(min(_CHUNK_BYTES, limit - total))
        if not chunk:
            break
        chunks.append(chunk)
        total += len(chunk)
    return b"".join(chunks)


def parse_file(path: str | Path) -> Parsed:
    """Read and parse a flags file.

    :raises ConfigurationError: unreadable, unknown type, empty or a syntax error.
    """
    file = Path(path)
    fmt = file_format(file)
    try:
        # Bounded: a path pointed at a device (/dev/zero) or a runaway generated file
        # would otherwise be read until memory runs out.
        with file.open("rb") as fh:
            raw = _read_at_most(fh, MAX_FILE_BYTES + 1)
    except OSError as exc:
        raise ConfigurationError(
            f"{file}: cannot read the flags file ({exc.strerror or exc}); check the path"
        ) from None
    return parse_bytes(raw, fmt, str(file))


def parse_bytes(raw: bytes, fmt: str, source: str) -> Parsed:
    """Decode and parse a flags file's bytes (read from disk or fetched from a URL).

    :param source: where the bytes came from, named in every problem.
    :raises ConfigurationError: too large, not UTF-8, empty or a syntax error.
    """
    if len(raw) > MAX_FILE_BYTES:
        raise ConfigurationError(
            f"{source}: the flags file is larger than {MAX_FILE_BYTES // 2**20} MiB, the most "
            "flagport reads; check that the path names a flags file, or split the file"
        )
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ConfigurationError(f"{source}: not UTF-8 text ({exc}); save it as UTF-8") from None
    if not text.strip():
        raise ConfigurationError(
            f"{source}: the flags file is empty; define at least one of gates, experiments "
            "or configs (`flagport schema` prints the format)"
        )
    data, repeated = parse_text(text, fmt, source)
    return Parsed(data, text, fmt, repeated)
