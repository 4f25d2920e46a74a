"""Where settings files are found, and how relative paths inside them resolve.

The search starts in the current directory and goes up, the way pytest finds its
configuration: the first directory holding ``flagport.toml`` or a ``pyproject.toml``
with a ``[tool.flagport]`` table wins (both are read when both are there), and the
search stops at the project root, a directory with ``.git``, ``.hg`` or a
``pyproject.toml``, so that no settings leak in from above the project.
``FLAGPORT_CONFIG`` names the file to read instead of a discovered ``flagport.toml``.

A relative path given in a settings file means a file next to it, wherever the
process runs: options that hold paths are marked :class:`PathOption` (or typed
:class:`pathlib.Path`), and such a value resolves against its file's directory.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path, PurePath
from typing import Any

from pydantic import BaseModel

from flagport._documents import parse_bytes, read_document, read_file_bytes
from flagport._model_fields import fields_marked
from flagport.errors import ConfigurationError, FlagportError

__all__ = [
    "PYPROJECT",
    "SETTINGS_FILE",
    "Discovery",
    "Layer",
    "PathOption",
    "ProviderTable",
    "discover",
    "path_options",
    "resolve_paths",
]

SETTINGS_FILE = "flagport.toml"
PYPROJECT = "pyproject.toml"
#: What makes a directory the project root: the search goes no higher.
_ROOT_MARKERS = (".git", ".hg", PYPROJECT)


class PathOption:
    """Marks an option that holds a file path, in ``Annotated[str | None, PathOption()]``.

    A relative path given in a settings file resolves against that file's directory;
    one given in code or the environment stays relative to the current directory.
    Options typed :class:`pathlib.Path` need no mark.
    """

    def __repr__(self) -> str:
        return "PathOption()"


class ProviderTable:
    """Marks an option that holds another provider and its options (``{provider = ...}``).

    The paths among those options resolve as that provider's options model says.
    """

    def __repr__(self) -> str:
        return "ProviderTable()"


@dataclass(frozen=True)
class Layer:
    """Settings from one source, in the shape of ``flagport.toml``.

    :ivar source: how messages name it (``/app/pyproject.toml [tool.flagport]``).
    :ivar data: its table: ``provider``, ``strict``, ``[events]``, one table per provider.
    :ivar base: the directory its relative paths resolve against (a file's own).
    """

    source: str
    data: Mapping[str, Any]
    base: Path | None = None


@dataclass(frozen=True)
class Discovery:
    """The settings files found, lowest precedence first, and where the search went.

    :ivar layers: one per file read.
    :ivar start: the directory the search started in.
    :ivar stop: the last directory searched.
    """

    layers: list[Layer]
    start: Path
    stop: Path

    def describe(self) -> str:
        """Which files were read, or where none was found, for error messages."""
        if self.layers:
            return "settings read from " + " and ".join(layer.source for layer in self.layers)
        where = str(self.start) if self.stop == self.start else f"{self.start} up to {self.stop}"
        return (
            f"no settings file found (looked for {SETTINGS_FILE} and [tool.flagport] in "
            f"{PYPROJECT} in {where})"
        )


def read_toml(path: Path) -> dict[str, Any]:
    """The TOML document in ``path`` (whatever its extension).

    :raises ConfigurationError: the file cannot be read or is not valid TOML, with the line.
    """
    data: dict[str, Any] = read_document(path, what="settings file", fmt="toml").data
    return data


#: Where a TOML text may put something at ``tool.flagport``: the dotted name, in a table
#: header or a dotted key (``[tool.flagport]``, ``tool."flagport".provider = ...``), ...
_TOOL_FLAGPORT = rb"""tool["']?[ \t]*\.[ \t]*["']?flagport["']?[ \t]*[.=\]]"""
#: ... or a ``flagport`` key of a ``tool`` table written whole (``[tool]``, ``tool = {``).
_TOOL_TABLE = rb"""(?m)^[ \t]*(?:\[\[?[ \t]*["']?tool["']?[ \t]*\]|["']?tool["']?[ \t]*=)"""
_FLAGPORT_KEY = rb"""flagport["']?[ \t]*[.=\]]"""


def _may_hold_flagport(raw: bytes) -> bool:
    """Whether a TOML text can define ``tool.flagport`` at all.

    Each key is spelled in the text, bare or quoted with any spacing, unless a basic
    string writes its letters as ``\\u`` or ``\\U`` escapes; without either, there is
    no ``[tool.flagport]`` table to find and the file need not be parsed. A cold start's
    pyproject.toml usually names flagport only as a dependency (``"flagport>=1.0"``) or
    another tool's key (``[tool.uv.sources]``).
    """
    if b"\\u" in raw or b"\\U" in raw:
        return True
    if b"flagport" not in raw:
        return False
    if re.search(_TOOL_FLAGPORT, raw):
        return True
    return bool(re.search(_TOOL_TABLE, raw) and re.search(_FLAGPORT_KEY, raw))


def _is_file(path: Path) -> bool:
    """Whether ``path`` is a file; one in a folder this process may not search is none
    it could read, and counts as absent (a service may run in such a folder)."""
    try:
        return path.is_file()
    except PermissionError:
        return False


def _exists(path: Path) -> bool:
    try:
        return path.exists()
    except PermissionError:
        return False


def _not_readable(path: Path) -> str | None:
    """Why the file ``path`` cannot be read as settings, or ``None``."""
    try:
        if path.is_file():
            return None
        return "which is not a file" if path.exists() else "which does not exist"
    except PermissionError:
        return "in a folder this process may not search"


def _tool_table(pyproject: Path) -> Layer | None:
    if not _is_file(pyproject):
        return None
    raw = read_file_bytes(pyproject, "settings file")
    if not _may_hold_flagport(raw):
        return None
    table = parse_bytes(raw, "toml", str(pyproject), what="settings file").data
    table = table.get("tool", {}).get("flagport")
    if not isinstance(table, dict):
        return None
    return Layer(f"{pyproject} [tool.flagport]", table, pyproject.parent)


def discover(start: str | os.PathLike[str], environ: Mapping[str, str]) -> Discovery:
    """Find and read the settings files, searching up from ``start``.

    :raises ConfigurationError: ``FLAGPORT_CONFIG`` names no file, or a file is not TOML.
    """
    origin = Path(start).resolve()
    explicit = environ.get("FLAGPORT_CONFIG")
    config = (origin / explicit).resolve() if explicit else None
    if config is not None and (problem := _not_readable(config)):
        raise ConfigurationError(
            f"FLAGPORT_CONFIG names {config}, {problem}; fix the path or unset it"
        )
    if config is not None and config.suffix.lower() in {".yaml", ".yml", ".json"}:
        # Most often the flags file, whose syntax errors as TOML would say nothing useful.
        raise ConfigurationError(
            f"FLAGPORT_CONFIG names {config}, which is not a TOML settings file; point it "
            f"at a {SETTINGS_FILE} (a flags file is named there: [local] path = ...)"
        )
    layers: list[Layer] = []
    stop = origin
    for directory in (origin, *origin.parents):
        stop = directory
        if tool := _tool_table(directory / PYPROJECT):
            layers.append(tool)
        candidate = directory / SETTINGS_FILE
        if config is None and _is_file(candidate):
            layers.append(Layer(str(candidate), read_toml(candidate), directory))
        if layers or any(_exists(directory / marker) for marker in _ROOT_MARKERS):
            break
    if config is not None:
        layers.append(Layer(str(config), read_toml(config), config.parent))
    return Discovery(layers, origin, stop)


def _marked(model: type[BaseModel], mark: type) -> frozenset[str]:
    """The names (and aliases) of the options of ``model`` marked ``mark``."""

    def is_mark(part: Any) -> bool:
        if mark is PathOption and isinstance(part, type) and issubclass(part, PurePath):
            return True
        return isinstance(part, mark)

    return fields_marked(model, is_mark)


def path_options(model: type[BaseModel]) -> frozenset[str]:
    """The names (and aliases) of the options of ``model`` that hold file paths."""
    return _marked(model, PathOption)


def resolve_paths(
    values: dict[str, Any], bases: Mapping[str, Path], model: type[BaseModel]
) -> None:
    """Make the relative paths in ``values`` that came from a file absolute, in place.

    :param bases: the directory of the file each value came from, by option name
        (values from code or the environment have none, and stay as given).
    :param model: the options model saying which options hold paths (and which hold
        another provider's options, resolved by that provider's model).
    """
    paths, providers = path_options(model), _marked(model, ProviderTable)
    for key, base in bases.items():
        value = values.get(key)
        if key in paths and isinstance(value, str | PurePath) and str(value):
            if not Path(value).is_absolute():
                values[key] = str(base / value) if isinstance(value, str) else base / value
        elif key in providers and isinstance(value, Mapping):
            values[key] = _resolve_provider_table(value, base)


def _resolve_provider_table(table: Mapping[str, Any], base: Path) -> Mapping[str, Any]:
    # Imported here: plugins load only when a file gives such a table.
    from flagport.plugins import get_provider_class

    try:
        model = get_provider_class(str(table.get("provider")))
    except FlagportError:
        return table  # validating the table reports it, with its place
    resolved = dict(table)
    resolve_paths(resolved, dict.fromkeys(resolved, base), model.Options)
    return resolved
