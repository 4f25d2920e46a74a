"""JSON has no infinity or NaN: what flagport writes as JSON spells them as strings.

A vendor can serve a non-finite number and an application can log one; Python's and
pydantic's encoders write the bare tokens ``NaN`` and ``Infinity`` by default, which
JSON parsers refuse. Every JSON flagport prints or writes (CLI output, event sinks)
turns them into the strings ``"Infinity"``, ``"-Infinity"`` and ``"NaN"`` instead,
which Python's ``float()`` reads back (the event sinks get the same from pydantic's
encoder, ``inf_nan_mode="strings"``).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

__all__ = ["finite"]

_NON_FINITE = {math.inf: "Infinity", -math.inf: "-Infinity"}


def finite(data: Any) -> Any:
    """``data`` with every non-finite float replaced by its string.

    Mappings become dicts and lists, tuples and sets become lists (as they encode);
    other values are returned as they are.
    """
    if isinstance(data, float) and not math.isfinite(data):
        return _NON_FINITE.get(data, "NaN")
    if isinstance(data, Mapping):
        return {key: finite(value) for key, value in data.items()}
    if isinstance(data, list | tuple | set | frozenset):
        return [finite(value) for value in data]
    return data
