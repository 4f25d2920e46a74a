"""The ``flagport`` and ``flagport_matrix`` markers: what they force, read and checked."""

from __future__ import annotations

import itertools
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import pytest

from flagport.results import JSON_TYPES

__all__ = ["MARKERS", "Forcing", "marker_forcing", "matrix_combinations", "matrix_gates"]

MARKERS = (
    "flagport(gates={}, experiments={}, configs={}): force gates (name: bool), experiment "
    "groups (name: group, or name: {'group': ..., 'value': {...}}) and configs (name: {...}) "
    "for the test; the closest marker wins per flag",
    "flagport_matrix(*gates): run the test once per on/off combination of the gates",
)
_KINDS = ("gates", "experiments", "configs")


@dataclass
class Forcing:
    """Values to force for one test, by kind.

    :ivar experiments: name -> (group, value); a value of None is the group's own.
    :ivar configs: name -> value (any JSON value).
    """

    gates: dict[str, bool] = field(default_factory=dict)
    experiments: dict[str, tuple[str | None, Any]] = field(default_factory=dict)
    configs: dict[str, Any] = field(default_factory=dict)


def _where(marker: pytest.Mark) -> str:
    return f"@pytest.mark.{marker.name}"


def _experiment(marker: pytest.Mark, name: str, spec: Any) -> tuple[str | None, Any]:
    if isinstance(spec, str):
        return spec, None
    if isinstance(spec, Mapping) and set(spec) <= {"group", "value"}:
        group, value = spec.get("group"), spec.get("value")
        if (group is None or isinstance(group, str)) and (isinstance(value, JSON_TYPES)):
            return group, value
    raise ValueError(
        f"{_where(marker)}: experiments[{name!r}] must be a group name or "
        f"{{'group': 'blue', 'value': {{...}}}}, not {spec!r}"
    )


def marker_forcing(item: pytest.Item) -> Forcing:
    """Merge the ``flagport`` markers of a test, its class and its module.

    :raises ValueError: a marker is malformed; the message says how to write it.
    """
    forcing = Forcing()
    # iter_markers yields the closest first; apply the farthest first so closer wins.
    for marker in reversed(list(item.iter_markers("flagport"))):
        unknown = sorted(set(marker.kwargs) - set(_KINDS))
        if marker.args or unknown:
            raise ValueError(
                f"{_where(marker)} takes only the keywords gates=, experiments=, configs= "
                f"(got {'positional arguments' if marker.args else unknown})"
            )
        for kind in _KINDS:
            table = marker.kwargs.get(kind, {})
            if not isinstance(table, Mapping) or not all(isinstance(k, str) for k in table):
                raise ValueError(f"{_where(marker)}: {kind}= must be a dict keyed by flag name")
            for name, spec in table.items():
                if kind == "gates":
                    if not isinstance(spec, bool):
                        raise ValueError(
                            f"{_where(marker)}: gates[{name!r}] must be True or False, not {spec!r}"
                        )
                    forcing.gates[name] = spec
                elif kind == "experiments":
                    forcing.experiments[name] = _experiment(marker, name, spec)
                else:
                    # None is no value to force (an experiment's means "the group's own").
                    if spec is None or not isinstance(spec, JSON_TYPES):
                        raise ValueError(
                            f"{_where(marker)}: configs[{name!r}] must be a JSON value (a dict "
                            f"of values, a list, a str, a number or a bool), not {spec!r}"
                        )
                    forcing.configs[name] = spec
    return forcing


def matrix_gates(definition: pytest.Function | Any) -> list[str]:
    """The gates named by ``flagport_matrix`` markers, farthest marker first.

    :raises ValueError: a marker names no gate or something other than a name.
    """
    names: dict[str, None] = {}
    for marker in reversed(list(definition.iter_markers("flagport_matrix"))):
        if not marker.args or marker.kwargs:
            raise ValueError(
                f"{_where(marker)} takes gate names, e.g. "
                f"@pytest.mark.flagport_matrix('new_checkout', 'dark_mode')"
            )
        for name in marker.args:
            if not isinstance(name, str) or not name:
                raise ValueError(f"{_where(marker)}: {name!r} is not a gate name")
            names[name] = None
    return list(names)


def matrix_combinations(gates: list[str]) -> tuple[list[dict[str, bool]], list[str]]:
    """Every on/off combination of the gates, with its test id (``a=on-b=off``)."""
    combos = [
        dict(zip(gates, values, strict=True))
        for values in itertools.product((True, False), repeat=len(gates))
    ]
    ids = ["-".join(f"{g}={'on' if v else 'off'}" for g, v in c.items()) for c in combos]
    return combos, ids
