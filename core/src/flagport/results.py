"""Evaluation results.

Results are small frozen slotted dataclasses rather than pydantic models: a provider
can build each distinct result once (per rule, per group) and hand out the same
object on every call, so evaluation allocates nothing. Pydantic still validates and
serialises them (``pydantic.TypeAdapter(GateResult)``), and :meth:`to_dict` gives
plain JSON-ready data.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, fields
from typing import Any, TypeVar, overload

from typing_extensions import TypeAliasType

from flagport.errors import shown
from flagport.reasons import ErrorCode, Reason

__all__ = [
    "JSON_TYPES",
    "ConfigResult",
    "Evaluations",
    "ExperimentResult",
    "FrozenDict",
    "GateResult",
    "JsonValue",
    "Result",
    "freeze",
    "thaw",
]

T = TypeVar("T")

#: What a config or an experiment group serves: any JSON value. Served values are
#: frozen (:func:`freeze`): mappings are :class:`FrozenDict`, lists are tuples.
JsonValue = TypeAliasType(
    "JsonValue",
    "str | int | float | bool | Mapping[str, JsonValue] | Sequence[JsonValue] | None",
)
#: The types a :data:`JsonValue` is made of, for ``isinstance`` checks of given values
#: (containers' items are checked when they are frozen).
JSON_TYPES = (Mapping, list, tuple, str, int, float, bool, type(None))


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


#: How deep :func:`freeze` and :func:`thaw` follow nested mappings and lists. Deeper
#: data is refused rather than followed until Python's recursion limit.
MAX_VALUE_DEPTH = 100


class _Unconvertible(Exception):
    """Raised inside :func:`_convert`; collects the path on the way out."""

    def __init__(self, problem: str) -> None:
        super().__init__(problem)
        self.problem = problem
        self.path: list[str] = []

    def as_value_error(self) -> ValueError:
        where = "".join(reversed(self.path))
        if len(where) > 200:
            where = where[:100] + "…" + where[-100:]
        return ValueError(f"the value {self.problem} at value{where}")


_OPEN: Any = object()  # marks a node being converted, to tell a cycle from a shared node
_CONTAINERS = (Mapping, list, tuple)


def _convert(value: Any, freezing: bool) -> Any:
    """Rebuild nested JSON-like data frozen (FrozenDict, tuple) or thawed (dict, list).

    A node reached twice (data built from shared references) is converted once and
    shared, so it costs its size, not the number of paths to it; a cycle or data
    nested deeper than :data:`MAX_VALUE_DEPTH` raises ``ValueError`` naming where.
    """
    seen: dict[int, Any] = {}

    def convert(node: Any, depth: int) -> Any:
        ident = id(node)
        found = seen.get(ident)
        if found is not None:
            if found is _OPEN:
                raise _Unconvertible("refers to itself")
            return found
        if depth >= MAX_VALUE_DEPTH:
            raise _Unconvertible(f"is nested deeper than {MAX_VALUE_DEPTH} levels")
        seen[ident] = _OPEN
        is_mapping = isinstance(node, Mapping)
        pairs: list[tuple[Any, Any]] = []
        for key, child in node.items() if is_mapping else enumerate(node):
            # Scalars are copied as they are; only containers recurse.
            if isinstance(child, _CONTAINERS) and not (freezing and isinstance(child, FrozenDict)):
                try:
                    child = convert(child, depth + 1)
                except _Unconvertible as exc:
                    exc.path.append(f"[{shown(key, 40)}]")
                    raise
            pairs.append((key, child))
        converted: Any
        if is_mapping:
            converted = FrozenDict({str(k): v for k, v in pairs}) if freezing else dict(pairs)
        else:
            converted = tuple(v for _, v in pairs) if freezing else [v for _, v in pairs]
        seen[ident] = converted
        return converted

    try:
        return convert(value, 0)
    except _Unconvertible as exc:
        raise exc.as_value_error() from None


def freeze(value: Any) -> Any:
    """Deep-freeze JSON-like data: dicts become :class:`FrozenDict`, lists tuples.

    :raises ValueError: the data refers to itself or is nested deeper than
        :data:`MAX_VALUE_DEPTH` levels (the message says where).
    """
    if isinstance(value, FrozenDict) or not isinstance(value, _CONTAINERS):
        return value
    if isinstance(value, Mapping):
        # The common case, a flat mapping (most defaults and values), skips the walk.
        for child in value.values():
            if isinstance(child, _CONTAINERS):
                break
        else:
            return FrozenDict({str(k): v for k, v in value.items()})
    return _convert(value, freezing=True)


def thaw(value: Any) -> Any:
    """Undo :func:`freeze`: plain dicts and lists, safe to modify and serialise.

    :raises ValueError: as :func:`freeze`.
    """
    if not isinstance(value, _CONTAINERS):
        return value
    return _convert(value, freezing=False)


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _typed_get(value: Any, key: str, default: Any) -> Any:
    if not isinstance(value, Mapping):
        return default
    try:
        found = value.get(key, _MISSING)
    except TypeError:  # an unhashable key: not in any mapping
        return default
    if found is _MISSING or default is None:
        return default if found is _MISSING else found
    # JSON has one number type: a number default takes the stored number as it is
    # (0.2 stays 0.2 under an int default). A bool is not a number here.
    if isinstance(default, bool):
        return found if isinstance(found, bool) else default
    if _is_number(default):
        return found if _is_number(found) else default
    if isinstance(default, Mapping):
        return found if isinstance(found, Mapping) else default
    if isinstance(default, list | tuple):
        return found if isinstance(found, list | tuple) else default
    return found if isinstance(found, type(default)) else default


_MISSING: Any = object()


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


class _ValueGet:
    """``get(key, default)`` on a result's ``value`` (configs and experiments), for the
    common value that is a mapping: on any other value every key is missing."""

    __slots__ = ()
    value: JsonValue

    @overload
    def get(self, key: str, default: None = None) -> Any: ...
    @overload
    def get(self, key: str, default: bool) -> bool: ...
    @overload
    def get(self, key: str, default: float) -> int | float: ...
    @overload
    def get(self, key: str, default: list[T] | tuple[T, ...]) -> Sequence[T]: ...
    @overload
    def get(self, key: str, default: dict[str, T]) -> Mapping[str, T]: ...
    @overload
    def get(self, key: str, default: T) -> T: ...
    def get(self, key: str, default: Any = None) -> Any:
        """Return ``value[key]``, or ``default`` when it is missing or of another type.

        Numbers are one type, as in JSON: under an ``int`` or ``float`` default the
        stored number comes back unchanged (``get("discount", 0)`` on 0.2 is 0.2). A
        ``bool`` is not a number: a ``bool`` default takes only a stored ``bool``, a
        number default never does. Any other default takes a stored value that is an
        instance of its type (a ``list`` default also takes the stored tuple); nothing
        is ever converted.
        """
        return _typed_get(self.value, key, default)


@dataclass(frozen=True, slots=True, kw_only=True)
class GateResult(_ResultBase):
    """The outcome of a feature gate.

    :ivar value: whether the gate passes.
    """

    value: bool = False

    def __bool__(self) -> bool:
        return self.value


@dataclass(frozen=True, slots=True, kw_only=True)
class ConfigResult(_ResultBase, _ValueGet):
    """A dynamic config's value for a user: any JSON value (an empty mapping when the
    config defines none)."""

    value: JsonValue = field(default_factory=FrozenDict)


@dataclass(frozen=True, slots=True, kw_only=True)
class ExperimentResult(_ResultBase, _ValueGet):
    """A user's assignment in an experiment.

    :ivar group: the group (variation) name, or ``None`` when the user is not in it.
    :ivar value: the group's value: any JSON value, usually a mapping of parameters (an
        empty mapping when there is none).
    :ivar in_experiment: whether the user was assigned by the experiment itself (and
        so should be counted in its analysis), rather than served a default,
        an override or a launched winner.
    """

    group: str | None = None
    value: JsonValue = field(default_factory=FrozenDict)
    in_experiment: bool = False


Result = GateResult | ExperimentResult | ConfigResult


@dataclass(frozen=True, slots=True)
class Evaluations:
    """Everything a provider knows, evaluated for one user (see ``evaluate_all``).

    :ivar error_code: set when nothing could be evaluated (an invalid user: the mappings
        are then empty) or the provider is not ready (they hold only overridden flags);
        ``error_message`` says why.
    """

    gates: Mapping[str, GateResult]
    experiments: Mapping[str, ExperimentResult]
    configs: Mapping[str, ConfigResult]
    error_code: ErrorCode | None = None
    error_message: str | None = None

    @property
    def is_error(self) -> bool:
        """True when nothing was evaluated because the call failed."""
        return self.error_code is not None

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-ready data, keyed by kind then name (plus the error, if any)."""
        data: dict[str, Any] = {
            "gates": {k: r.to_dict() for k, r in self.gates.items()},
            "experiments": {k: r.to_dict() for k, r in self.experiments.items()},
            "configs": {k: r.to_dict() for k, r in self.configs.items()},
        }
        if self.error_code is not None:
            data["error_code"] = self.error_code
            data["error_message"] = self.error_message
        return data
