"""A flags file's condition options: its semantics, strictness and compiled segments."""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from pydantic import ValidationError

from flagport.providers.local.conditions.compiler import ConditionCompiler
from flagport.providers.local.conditions.options import (
    SEMANTICS,
    ConditionError,
    ConditionOptions,
)
from flagport.providers.local.conditions.segments import Segment, SegmentDef

if TYPE_CHECKING:
    from flagport.user import User

__all__ = ["build_options", "raw_condition_options", "references"]

Problem = tuple[str, str]


def build_options(
    raw_segments: Mapping[str, Any] | None,
    *,
    semantics: str = "growthbook",
    strict: bool = True,
    flag_names: Collection[str] | None = None,
    flag_value: Callable[[str, str, User], Any] | None = None,
    environment: str | None = None,
) -> tuple[ConditionOptions, list[Problem]]:
    """The options every condition of a file is compiled with, and the problems found.

    ID-list segments are compiled first, so that a segment with rules can test them;
    a segment with rules may use ``$inSegment`` on one defined above it.

    :param raw_segments: the file's ``segments`` (lists, :class:`SegmentDef` or
        mappings of its fields).
    :param semantics: the file's matching semantics.
    :param strict: False to evaluate GrowthBook vendor payloads leniently
        (:attr:`ConditionOptions.lenient`).
    :returns: the options and ``(path, message)`` problems of the segments.
    """
    problems: list[Problem] = []
    segments: dict[str, Segment | Collection[Any]] = {}
    ruled: list[tuple[str, SegmentDef]] = []
    for name, raw in (raw_segments or {}).items():
        if isinstance(raw, list | tuple):
            segments[name] = list(raw)
            continue
        try:
            definition = raw if isinstance(raw, SegmentDef) else SegmentDef.model_validate(raw)
        except ValidationError as exc:
            for error in exc.errors(include_url=False):
                where = ".".join(["segments", name, *map(str, error["loc"])])
                problems.append((where, error["msg"]))
            continue
        if definition.hashed_ids is not None:
            segments[name] = Segment(members=tuple(definition.hashed_ids), hashed=True)
        if (
            definition.hashed_ids is None
            or definition.when is not None
            or definition.included
            or definition.excluded
        ):
            ruled.append((name, definition))  # an empty one is a segment nobody is in
    options = ConditionOptions(
        semantics=semantics,  # type: ignore[arg-type]
        segments=segments,
        flag_value=flag_value,
        flag_names=flag_names,
        environment=environment,
        lenient=not strict,
    )
    for name, definition in ruled:
        when = None
        if definition.when is not None:
            try:
                when = ConditionCompiler(options).condition(
                    definition.when, f"segments.{name}.when"
                )
            except ConditionError as exc:
                problems.append((exc.path, exc.message))
                continue
        hashed = segments.get(name)
        segments[name] = Segment(
            members=hashed.members if isinstance(hashed, Segment) else None,
            hashed=isinstance(hashed, Segment),
            when=when,
            included=frozenset(definition.included),
            excluded=frozenset(definition.excluded),
            unit=definition.unit,
        )
    return replace(options, segments=segments), problems


def references(cond: Any) -> set[tuple[str, str]]:
    """The gates (``("gate", name)``) and segments a condition refers to, for cycles."""
    found: set[tuple[str, str]] = set()
    stack = [cond]
    while stack:
        item = stack.pop()
        if isinstance(item, Mapping):
            for key, value in item.items():
                if key in ("$passGate", "$failGate"):
                    names = [value] if isinstance(value, str) else value
                    if isinstance(names, list | tuple):
                        found.update(("gate", n) for n in names if isinstance(n, str))
                elif key in ("$inSegment", "$notInSegment", "$inGroup", "$notInGroup"):
                    if isinstance(value, str):
                        found.add(("segment", value))
                else:
                    stack.append(value)
        elif isinstance(item, list | tuple):
            stack.extend(item)
    return found


def raw_condition_options(data: Mapping[str, Any]) -> ConditionOptions:
    """Options from a file not yet validated, to check its conditions anyway."""
    segments = data.get("segments")
    gates = data.get("gates")
    semantics = data.get("semantics")
    options, _ = build_options(
        segments if isinstance(segments, Mapping) else {},
        semantics=semantics if semantics in SEMANTICS else "growthbook",
        strict=data.get("strict_conditions") is not False,
        flag_names=frozenset(gates) if isinstance(gates, Mapping) else None,
        flag_value=lambda kind, name, user: False,  # compiled only to find problems
    )
    return options
