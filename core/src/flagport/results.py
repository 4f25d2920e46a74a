"""Evaluation results.

Results are small frozen slotted dataclasses rather than pydantic models: a provider
can build each distinct result once (per rule, per group) and hand out the same
object on every call, so evaluation allocates nothing. Pydantic still validates and
serialises them (``pydantic.TypeAdapter(GateResult)``), and :meth:`to_dict` gives
plain JSON-ready data.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from typing import Any, TypeVar, overload

from flagport.reasons import ErrorCode, Reason

__all__ = [
    "ConfigResult",
    "Evaluations",
    "ExperimentResult",
    "FrozenDict",
    "GateResult",
    "Result",
    "freeze",
    "thaw",
]

T = TypeVar("T")


class FrozenDict(dict[str, Any]):
    """A ``dict`` that refuses changes.

    Shared result values are handed to every caller; this keeps one caller from
    changing what the next one sees, while ``json.dumps`` and ``isinstance(x, dict)``
    keep working.
    """

    __slots__ = ()

    def _readonly(self, *args: Any, **kwargs: Any) -> Any:
        raise TypeError("flagport result values are read-only; copy with dict(value) to modify")

    __setitem__ = __delitem__ = _readonly
    clear = pop = popitem = setdefault = update = __ior__ = _readonly

    def __reduce__(self) -> tuple[Any, ...]:
        return (FrozenDict, (dict(self),))

    def __repr__(self) -> str:
        return dict.__repr__(self)


def freeze(value: Any) -> Any:
    """Deep-freeze JSON-like data: dicts become :class:`FrozenDict`, lists tuples."""
    if isinstance(value, FrozenDict):
        return value
    if isinstance(value, Mapping):
        return FrozenDict({str(k): freeze(v) for k, v in value.items()})
    if isinstance(value, list | tuple):
        return tuple(freeze(v) for v in value)
    return value


def thaw(value: Any) -> Any:
    """Undo :func:`freeze`: plain dicts and lists, safe to modify and serialise."""
    if isinstance(value, Mapping):
        return {k: thaw(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [thaw(v) for v in value]
    return value


def _typed_get(value: Any, key: str, default: Any) -> Any:
    if not isinstance(value, Mapping):
        return default
    found = value.get(key, default)
    if default is None or found is default:
        return found
    # Numbers are interchangeable (JSON has one number type), bools are not numbers.
    if isinstance(default, bool) or isinstance(found, bool):
        return found if isinstance(found, bool) and isinstance(default, bool) else default
    if isinstance(default, int | float) and isinstance(found, int | float):
        return type(default)(found)
    if isinstance(default, Mapping) and isinstance(found, Mapping):
        return found
    if isinstance(default, list | tuple) and isinstance(found, list | tuple):
        return found
    return found if isinstance(found, type(default)) else default


@dataclass(frozen=True, slots=True)
class _ResultBase:
    name: str
    reason: Reason = Reason.DEFAULT
    rule_id: str | None = None
    provider: str | None = None
    error_code: ErrorCode | None = None
    error_message: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """The result as plain JSON-ready data."""
        return {f.name: thaw(getattr(self, f.name)) for f in fields(self)}

    @property
    def is_error(self) -> bool:
        """True when the result is a default served because evaluation failed."""
        return self.error_code is not None


@dataclass(frozen=True, slots=True, kw_only=True)
class GateResult(_ResultBase):
    """The outcome of a feature gate.

    :ivar value: whether the gate passes.
    """

    value: bool = False

    def __bool__(self) -> bool:
        return self.value


@dataclass(frozen=True, slots=True, kw_only=True)
class ConfigResult(_ResultBase):
    """A dynamic config's value for a user (an empty mapping when there is none)."""

    value: Mapping[str, Any] = field(default_factory=FrozenDict)

    @overload
    def get(self, key: str, default: None = None) -> Any: ...
    @overload
    def get(self, key: str, default: T) -> T: ...
    def get(self, key: str, default: Any = None) -> Any:
        """Return ``value[key]``, or ``default`` when it is missing or of another type."""
        return _typed_get(self.value, key, default)


@dataclass(frozen=True, slots=True, kw_only=True)
class ExperimentResult(_ResultBase):
    """A user's assignment in an experiment.

    :ivar group: the group (variation) name, or ``None`` when the user is not in it.
    :ivar value: the group's parameters (an empty mapping when there are none).
    :ivar in_experiment: whether the user was assigned by the experiment itself (and
        so should be counted in its analysis), rather than served a default,
        an override or a launched winner.
    """

    group: str | None = None
    value: Mapping[str, Any] = field(default_factory=FrozenDict)
    in_experiment: bool = False

    @overload
    def get(self, key: str, default: None = None) -> Any: ...
    @overload
    def get(self, key: str, default: T) -> T: ...
    def get(self, key: str, default: Any = None) -> Any:
        """Return ``value[key]``, or ``default`` when it is missing or of another type."""
        return _typed_get(self.value, key, default)


Result = GateResult | ExperimentResult | ConfigResult


@dataclass(frozen=True, slots=True)
class Evaluations:
    """Everything a provider knows, evaluated for one user (see ``evaluate_all``)."""

    gates: Mapping[str, GateResult]
    experiments: Mapping[str, ExperimentResult]
    configs: Mapping[str, ConfigResult]

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-ready data, keyed by kind then name."""
        return {
            "gates": {k: r.to_dict() for k, r in self.gates.items()},
            "experiments": {k: r.to_dict() for k, r in self.experiments.items()},
            "configs": {k: r.to_dict() for k, r in self.configs.items()},
        }
