"""Reading flags files: YAML, JSON or TOML, chosen by the file's extension.

The reading itself (bounds, syntax errors with their line, YAML from libyaml's node
tree) is flagport's one document reader, :mod:`flagport._documents`; this module names
what a flags file is in its messages.
"""

from __future__ import annotations

from pathlib import Path

from flagport import _documents
from flagport._documents import Document, document_format, read_document

__all__ = ["file_format", "parse_bytes", "parse_file"]

_WHAT = "flags file"
_EMPTY = (
    "the flags file is empty; define at least one of gates, experiments or configs "
    "(`flagport schema` prints the format)"
)


def file_format(path: Path) -> str:
    """The format of ``path`` by its extension.

    :raises ConfigurationError: the extension is not .yaml/.yml/.json/.toml.
    """
    return document_format(path, _WHAT)


def parse_file(path: str | Path) -> Document:
    """Read and parse a flags file.

    :raises ConfigurationError: unreadable, unknown type, empty or a syntax error.
    """
    return read_document(path, what=_WHAT, empty=_EMPTY)


def parse_bytes(raw: bytes, fmt: str, source: str) -> Document:
    """Parse a flags file's bytes fetched from ``source`` (a URL).

    :raises ConfigurationError: too large, not UTF-8, empty or a syntax error.
    """
    return _documents.parse_bytes(raw, fmt, source, what=_WHAT, empty=_EMPTY)
