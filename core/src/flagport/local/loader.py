"""Read a flags file (YAML, JSON or TOML), validate it and compile it.

Every problem in a file is reported at once, as one
:class:`~flagport.ConfigurationError` whose ``problems`` name the file, the path
inside it (``gates.new_checkout.rules[1].when``) and the line. Lines are found only
when something is wrong: the fast path parses with libyaml (when available) and never
builds a position map.
"""

from __future__ import annotations

import difflib
import gc
import json
import re
import tomllib
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from functools import cache
from pathlib import Path
from typing import Any, NamedTuple

import yaml
from pydantic import BaseModel, TypeAdapter, ValidationError

from flagport.errors import ConfigurationError, Location
from flagport.local.compiled import Snapshot
from flagport.local.compiler import Problem, compile_definitions, join_path
from flagport.local.conditions import ConditionError, compile_condition
from flagport.local.models import ConfigDef, ExperimentDef, FlagsFile, GateDef

__all__ = [
    "FORMATS",
    "Parsed",
    "build",
    "load_file",
    "load_mapping",
    "parse_file",
    "repeated_keys",
    "validate",
]

FORMATS = {".yaml": "yaml", ".yml": "yaml", ".json": "json", ".toml": "toml"}
_SECTIONS: dict[str, type[BaseModel]] = {
    "gates": GateDef,
    "experiments": ExperimentDef,
    "configs": ConfigDef,
}
_TOP_LEVEL = ("$schema", "version", "hash", "segments", "gates", "experiments", "configs")
_SafeLoader: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_TOML_LINE = re.compile(r"at line (\d+)")


@cache
def _adapter(model: type[BaseModel]) -> TypeAdapter[Any]:
    return TypeAdapter(model)


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
_MERGE = "tag:yaml.org,2002:merge"


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
        found = self.built.get(id(node))
        if found is not None:
            return found
        if isinstance(node, yaml.SequenceNode):
            items: list[Any] = []
            self.built[id(node)] = items
            items.extend(self.value(child) for child in node.value)
            return items
        if isinstance(node, yaml.MappingNode):
            if any(key.tag == _MERGE for key, _ in node.value):
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
    loader = _SafeLoader(text)
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
    :raises ConfigurationError: a syntax error, with its line.
    """
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
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark is not None else None
        parts = [getattr(exc, "context", None), getattr(exc, "problem", None)]
        detail = ", ".join(p for p in parts if p) or " ".join(str(exc).split())
        if mark is not None:
            detail += f" (column {mark.column + 1})"
    raise ConfigurationError(
        f"{source}: not valid {fmt.upper()}",
        [(Location(source, "", line), f"syntax error: {detail}; fix the syntax at this line")],
    )


class Parsed(NamedTuple):
    """A flags file read and parsed.

    :ivar repeated: some mapping in the file repeats a key (see :func:`repeated_keys`).
    """

    data: Any
    text: str
    fmt: str
    repeated: bool = False


def parse_file(path: str | Path) -> Parsed:
    """Read and parse a flags file.

    :raises ConfigurationError: unreadable, unknown type, empty or a syntax error.
    """
    file = Path(path)
    fmt = file_format(file)
    try:
        text = file.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigurationError(
            f"{file}: cannot read the flags file ({exc.strerror or exc}); check the path"
        ) from None
    except UnicodeDecodeError as exc:
        raise ConfigurationError(f"{file}: not UTF-8 text ({exc}); save it as UTF-8") from None
    if not text.strip():
        raise ConfigurationError(
            f"{file}: the flags file is empty; define at least one of gates, experiments "
            "or configs (see examples/flags.yaml)"
        )
    data, repeated = parse_text(text, fmt, str(file))
    return Parsed(data, text, fmt, repeated)


def repeated_keys(text: str) -> list[Problem]:
    """Every key that repeats within one mapping of a YAML or JSON text, with its path.

    Only called when parsing noticed a repeat, as it walks the whole node tree.
    """
    try:
        root = yaml.compose(text, Loader=_SafeLoader)
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
                if key in first and key_node.tag != _MERGE:
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


# -- validation ------------------------------------------------------------------------
def _describe(error: Mapping[str, Any], allowed: tuple[str, ...] = ()) -> str:
    kind = error["type"]
    loc = error["loc"]
    if kind == "extra_forbidden":
        key = str(loc[-1]) if loc else "?"
        hint = ""
        close = difflib.get_close_matches(key, allowed, n=1)
        if close:
            hint = f"; did you mean {close[0]!r}?"
        elif allowed:
            hint = f"; allowed keys: {', '.join(allowed)}"
        return f"unknown key {key!r}{hint}"
    if kind == "missing":
        return f"required key {str(loc[-1])!r} is missing; add it"
    message = str(error["msg"])
    if kind == "string_type" and isinstance(error.get("input"), bool):
        return (
            f"{message} (got {error['input']!r}: YAML reads on/off/yes/no as booleans; "
            "put the value in quotes)"
        )
    if kind == "literal_error" and "expected" in (ctx := error.get("ctx") or {}):
        message = f"must be {ctx['expected']}"
    return f"{message} (got {error.get('input')!r})"


def _allowed_keys(model: type[BaseModel], loc: tuple[Any, ...]) -> tuple[str, ...]:
    # Walk the model along the error's path to list the keys allowed where it happened.
    current: Any = model
    for part in loc[:-1]:
        if isinstance(part, int) or current is None:
            continue
        fields = getattr(current, "model_fields", None)
        if not fields or part not in fields:
            current = None
            continue
        annotation = fields[part].annotation
        current = _model_in(annotation)
    if current is None:
        return ()
    return tuple((f.alias or n) for n, f in current.model_fields.items())


def _model_in(annotation: Any) -> type[BaseModel] | None:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for arg in getattr(annotation, "__args__", ()) or ():
        found = _model_in(arg)
        if found is not None:
            return found
    return None


def _validation_problems(
    exc: ValidationError, model: type[BaseModel], *prefix: str | int
) -> list[Problem]:
    problems: list[Problem] = []
    for error in exc.errors(include_url=False):
        loc = tuple(error["loc"])
        allowed = _allowed_keys(model, loc) if error["type"] == "extra_forbidden" else ()
        problems.append((join_path(*prefix, *loc), _describe(error, allowed)))
    return problems


def _raw_condition_problems(raw: Any, segments: Any, section: str, name: str) -> list[Problem]:
    # A flag that failed validation is not compiled, but its conditions can still be
    # checked, so one run reports a typo in `when` next to a bad percentage.
    if not isinstance(raw, Mapping):
        return []
    found: list[tuple[str, Any]] = [(join_path(section, name, "when"), raw.get("when"))]
    rules = raw.get("rules")
    if isinstance(rules, list):
        for index, rule in enumerate(rules):
            if isinstance(rule, Mapping):
                found.append((join_path(section, name, "rules", index, "when"), rule.get("when")))
    known = segments if isinstance(segments, Mapping) else {}
    problems: list[Problem] = []
    for path, cond in found:
        if not isinstance(cond, Mapping):
            continue
        try:
            compile_condition(cond, known, path=path)
        except ConditionError as exc:
            problems.append((exc.path or path, exc.message))
    return problems


def validate(data: Any) -> tuple[FlagsFile | None, list[Problem]]:
    """Validate parsed data flag by flag, so every flag's problems are reported.

    :returns: the model holding every flag that validated (None when the top level
        itself is invalid) and the problems; the model is complete only when there
        are no problems.
    """
    if not isinstance(data, Mapping):
        return None, [("", f"the file must hold a mapping of sections, not {type(data).__name__}")]
    problems: list[Problem] = []
    owner: dict[str, str] = {}
    head: dict[str, Any] = {}
    sections: dict[str, dict[str, Any]] = {}
    for key, value in data.items():
        if key in _SECTIONS:
            if value is None:
                continue
            if not isinstance(value, Mapping):
                problems.append(
                    (str(key), f"must map {key} names to definitions, not {type(value).__name__}")
                )
                continue
            validated: dict[str, Any] = {}
            model = _SECTIONS[key]
            for name, raw in value.items():
                if not isinstance(name, str) or not name.strip():
                    problems.append(
                        (join_path(key, str(name)), "flag names must be non-empty strings")
                    )
                    continue
                if name in owner:
                    problems.append(
                        (
                            join_path(key, name),
                            f"{name!r} is already defined in {owner[name]}; a name may be "
                            "used by one gate, experiment or config only: rename one",
                        )
                    )
                else:
                    owner[name] = key
                try:
                    validated[name] = _adapter(model).validate_python(raw)
                except ValidationError as exc:
                    problems.extend(_validation_problems(exc, model, key, name))
                    problems.extend(_raw_condition_problems(raw, data.get("segments"), key, name))
            sections[key] = validated
        elif key in _TOP_LEVEL:
            head[key] = value
        else:
            close = difflib.get_close_matches(str(key), _TOP_LEVEL, n=1)
            hint = f"did you mean {close[0]!r}?" if close else f"allowed: {', '.join(_TOP_LEVEL)}"
            problems.append((str(key), f"unknown top-level key {key!r}; {hint}"))
    try:
        top = FlagsFile.model_validate(head)
    except ValidationError as exc:
        problems.extend(_validation_problems(exc, FlagsFile))
        return None, problems
    # The flags that did validate are returned even when others did not, so the
    # compiler can report their problems too: one run shows everything.
    return top.model_copy(update=sections), problems


# -- lines -----------------------------------------------------------------------------
_TOKEN = re.compile(r"\[(\d+)\]|([^.\[\]]+)")


def _tokens(path: str) -> list[str | int]:
    return [int(i) if i else key for i, key in _TOKEN.findall(path)]


def _yaml_line(text: str, path: str) -> int | None:
    try:
        node = yaml.compose(text, Loader=_SafeLoader)
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


# -- entry points ------------------------------------------------------------------------
def build(
    data: Any,
    *,
    source: str,
    text: str | None = None,
    fmt: str = "yaml",
    default_hash: str = "statsig",
    repeated: bool = False,
) -> Snapshot:
    """Validate and compile parsed data.

    :param repeated: parsing noticed a repeated key; report where.

    :raises ConfigurationError: with every problem found, located.
    """
    definitions, problems = validate(data)
    if repeated and text is not None:
        problems[:0] = repeated_keys(text)
    snapshot = None
    if definitions is not None:
        snapshot, more = compile_definitions(definitions, source=source, default_hash=default_hash)
        problems.extend(more)
    if problems or snapshot is None:
        count = len(problems)
        located = locate(problems, source, text, fmt)
        # In file order, so the report reads top to bottom like the file.
        located.sort(key=lambda item: (item[0].line is None, item[0].line or 0))
        raise ConfigurationError(
            f"{source}: {count} problem{'s' if count != 1 else ''} in the flags file",
            located,
        )
    return snapshot


@contextmanager
def paused_gc() -> Iterator[None]:
    """Pause the cyclic garbage collector while a large file is turned into objects.

    Parsing and compiling allocate hundreds of thousands of objects and no garbage
    cycles; left on, the collector rescans them over and over, which makes loading a
    10,000-flag file about three times slower. Reference counting still frees memory.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def load_file(path: str | Path, *, default_hash: str = "statsig") -> Snapshot:
    """Load, validate and compile a flags file.

    :raises ConfigurationError: every problem in the file, with locations.
    """
    with paused_gc():
        parsed = parse_file(path)
        return build(
            parsed.data,
            source=str(path),
            text=parsed.text,
            fmt=parsed.fmt,
            default_hash=default_hash,
            repeated=parsed.repeated,
        )


def load_mapping(
    data: Mapping[str, Any], *, source: str = "inline flags", default_hash: str = "statsig"
) -> Snapshot:
    """Validate and compile definitions given as a mapping (the ``flags`` option).

    :raises ConfigurationError: every problem found, with paths (no lines).
    """
    with paused_gc():
        return build(data, source=source, text=None, default_hash=default_hash)
