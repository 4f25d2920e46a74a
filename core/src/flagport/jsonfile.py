"""Reading a JSON document that a person points an option at (a bootstrap payload).

One place for the errors every provider needs: an unreadable file, invalid JSON (with
its line and column, from flagport's one document reader), or a document that is not a
JSON object.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from flagport._documents import read_document
from flagport.errors import ConfigurationError, Location
from flagport.results import thaw

__all__ = ["read_json_object"]


def read_json_object(
    document: str | Path | Mapping[str, Any], *, what: str, option: str
) -> tuple[str, dict[str, Any]]:
    """Return ``(source, data)`` for a path to a JSON object file, or for the object itself.

    :param document: a file path, or the already-parsed object (copied, unfrozen).
    :param what: what the document is, for messages (``"statsig bootstrap"``).
    :param option: how the user sets it, for the fix (``"bootstrap (FLAGPORT_STATSIG_BOOTSTRAP)"``).
    :returns: a description of the source (the path, or ``"option <name>"``) and the data.
    :raises ConfigurationError: naming the file, the line and column, and the fix.
    """
    if isinstance(document, Mapping):
        return f"option {option.split()[0]}", thaw(document)
    source = str(document)
    fix = f"fix the {option} option to name a JSON file"
    data = read_document(document, what=f"{what} file", fix=fix, fmt="json").data
    if not isinstance(data, dict):
        raise ConfigurationError(
            f"the {what} must be a JSON object",
            [(Location(source), f"got a JSON {type(data).__name__}")],
        )
    return source, data
