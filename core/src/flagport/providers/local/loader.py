"""Load a flags file: parse it, validate it flag by flag, compile it.

Every problem in a file is reported at once, as one
:class:`~flagport.ConfigurationError` whose ``problems`` name the file, the path
inside it (``gates.new_checkout.rules[1].when``) and the line. Lines are found only
when something is wrong (:meth:`flagport._documents.Document.locate`); the fast path
never builds a position map.
"""

from __future__ import annotations

import functools
import gc
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from functools import cache
from pathlib import Path
from typing import Any

from pydantic import BaseModel, TypeAdapter, ValidationError

from flagport._documents import Document, locate
from flagport.errors import ConfigurationError, shown
from flagport.providers.local.compiled import Snapshot
from flagport.providers.local.compiler import Problem, compile_definitions, join_path
from flagport.providers.local.conditions import ConditionError, compile_audited
from flagport.providers.local.conditions.options import ConditionOptions
from flagport.providers.local.conditions.setup import raw_condition_options
from flagport.providers.local.limits import MAX_CONDITION_SIZE, Audit
from flagport.providers.local.models import ConfigDef, ExperimentDef, FlagsFile, GateDef
from flagport.providers.local.parsing import parse_file
from flagport.suggest import did_you_mean

__all__ = ["build", "load_file", "load_mapping", "paused_gc", "validate"]

_SECTIONS: dict[str, type[BaseModel]] = {
    "gates": GateDef,
    "experiments": ExperimentDef,
    "configs": ConfigDef,
}
_TOP_LEVEL = (
    *("$schema", "version", "hash", "semantics", "strict_conditions", "segments"),
    *("gates", "experiments", "configs"),
)


@cache
def _adapter(model: type[BaseModel]) -> TypeAdapter[Any]:
    return TypeAdapter(model)


# -- validation ------------------------------------------------------------------------
def _describe(error: Mapping[str, Any], allowed: tuple[str, ...] = ()) -> str:
    kind = error["type"]
    loc = error["loc"]
    if kind == "extra_forbidden":
        key = str(loc[-1]) if loc else "?"
        hint = did_you_mean(key, allowed)
        if hint:
            hint = f"; {hint}"
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
    # The input may be a YAML alias of aliases: its full repr could be gigabytes long.
    return f"{message} (got {shown(error.get('input'))})"


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


def _raw_condition_problems(
    raw: Any,
    options: Callable[[], ConditionOptions],
    section: str,
    name: str,
    audit: Audit,
    checked: dict[int, Any],
) -> list[Problem]:
    # A flag that failed validation is not compiled, but its conditions can still be
    # checked, so one run reports a typo in `when` next to a bad percentage. They are
    # audited with the file's audit: aliases in flags that fail validation count
    # against the same budget as those in flags that compile.
    if not isinstance(raw, Mapping):
        return []
    found: list[tuple[str, Any]] = [(join_path(section, name, "when"), raw.get("when"))]
    rules = raw.get("rules")
    if isinstance(rules, list):
        for index, rule in enumerate(rules):
            if isinstance(rule, Mapping):
                found.append((join_path(section, name, "rules", index, "when"), rule.get("when")))
    problems: list[Problem] = []
    for path, cond in found:
        if not isinstance(cond, Mapping):
            continue
        limits = audit.check(cond, path, max_size=MAX_CONDITION_SIZE)
        if limits or audit.exhausted:
            problems.extend(limits)
            continue
        # A condition aliased by many flags is compiled once (as the compiler does):
        # `checked` maps it (alive in the parsed data, so its id is its own) to None
        # or the path it was first compiled at and its problem.
        if id(cond) not in checked:
            try:
                compile_audited(cond, options(), path=path)
                checked[id(cond)] = None
            except ConditionError as exc:
                checked[id(cond)] = (path, exc.path or path, exc.message)
        if (problem := checked[id(cond)]) is not None:
            first, where, message = problem
            if where.startswith(first):
                where = path + where[len(first) :]
            problems.append((where, message))
    return problems


def validate(data: Any, audit: Audit | None = None) -> tuple[FlagsFile | None, list[Problem]]:
    """Validate parsed data flag by flag, so every flag's problems are reported.

    :param audit: the file's :class:`.Audit`, to be shared with the compiler; a new
        one when None.
    :returns: the model holding every flag that validated (None when the top level
        itself is invalid) and the problems; the model is complete only when there
        are no problems.
    """
    if not isinstance(data, Mapping):
        return None, [("", f"the file must hold a mapping of sections, not {type(data).__name__}")]
    audit = Audit() if audit is None else audit
    checked: dict[int, Any] = {}
    # Built once, and only when a flag fails validation: its conditions are then
    # checked with the file's segments, semantics and flag names.
    options = functools.cache(lambda: raw_condition_options(data))
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
                    (str(key), f"must map each name to its definition, not {type(value).__name__}")
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
                    problems.extend(
                        _raw_condition_problems(raw, options, key, name, audit, checked)
                    )
            sections[key] = validated
        elif key in _TOP_LEVEL:
            head[key] = value
        else:
            hint = did_you_mean(str(key), _TOP_LEVEL) or f"allowed: {', '.join(_TOP_LEVEL)}"
            problems.append((str(key), f"unknown top-level key {key!r}; {hint}"))
    try:
        top = FlagsFile.model_validate(head)
    except ValidationError as exc:
        problems.extend(_validation_problems(exc, FlagsFile))
        return None, problems
    # The flags that did validate are returned even when others did not, so the
    # compiler can report their problems too: one run shows everything.
    return top.model_copy(update=sections), problems


# -- entry points ------------------------------------------------------------------------
def build(
    data: Any,
    *,
    source: str,
    document: Document | None = None,
    default_hash: str = "statsig",
) -> Snapshot:
    """Validate and compile parsed data.

    :param document: the file ``data`` came from, to locate problems and report its
        repeated keys (None for definitions given in code).

    :raises ConfigurationError: with every problem found, located.
    """
    # One audit for the file: aliases count against one budget, in flags that fail
    # validation (whose conditions are still checked) as in those compiled.
    audit = Audit()
    definitions, problems = validate(data, audit)
    if document is not None:
        problems[:0] = document.repeated_keys()
    snapshot = None
    if definitions is not None:
        snapshot, more = compile_definitions(
            definitions, source=source, default_hash=default_hash, audit=audit
        )
        problems.extend(more)
    if problems or snapshot is None:
        count = len(problems)
        located = locate(problems, source, document)
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
        document = parse_file(path)
        return build(document.data, source=str(path), document=document, default_hash=default_hash)


def load_mapping(
    data: Mapping[str, Any], *, source: str = "inline flags", default_hash: str = "statsig"
) -> Snapshot:
    """Validate and compile definitions given as a mapping (the ``flags`` option).

    :raises ConfigurationError: every problem found, with paths (no lines).
    """
    with paused_gc():
        return build(data, source=source, default_hash=default_hash)
