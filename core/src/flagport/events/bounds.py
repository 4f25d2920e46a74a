"""Bounds on what one event carries: its depth, its size, no cycles.

``log_event`` metadata and a user's ``custom`` and ``private`` attributes are
arbitrary Python values. A value built from shared references (``d = {"a": d,
"b": [d]}`` forty times) is small in memory but astronomically large once a sink
encodes it, and a self-referencing one never ends. So, before an event is queued,
its metadata and user are copied into data no deeper than ``max_depth`` containers
and no larger than ``max_bytes`` (estimated as JSON text), each cut marked with
:data:`TRUNCATED`. The estimate is also what the queues count against their byte
limit.

Dataclasses and pydantic models are copied as mappings of their fields, deques,
sets and iterators as lists (an endless iterator is read only as far as the size
limit). Mapping keys become strings, as JSON writes them (:func:`json_key`), so every
sink sees the same event. Values of other types (dates, numbers, anything) are kept
as they are and counted at a nominal size: whether they serialise is the sink's
concern, one event at a time.
"""

from __future__ import annotations

import math
import sys
from collections import deque
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import fields, is_dataclass
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel

from flagport.finite_json import finite

if TYPE_CHECKING:
    from flagport.user import User

__all__ = ["NOT_FLAT", "TRUNCATED", "Bounded", "EventBounds", "flat_size", "json_key"]

TRUNCATED = "<truncated by flagport>"
"""Stands in for what was cut: a string's tail, a container too deep, a cycle, or the
entries past the size limit (under the key ``"…"`` in a mapping, last in a list)."""

_CUT_KEY = "…"
_SCALAR_SIZE = 8  # a number, true/false/null, or a value of another type, as JSON
_ENTRY_SIZE = 4  # quotes, colon and comma around a mapping key
_LEAVES = (str, int, float, bool, type(None))
_SCALARS = frozenset((int, float, bool, type(None)))
_SCALAR_ENTRY_SIZE = _ENTRY_SIZE + _SCALAR_SIZE
# What JSON encoders write as arrays; an iterator may never end, so it is read only
# as far as the budget goes.
_SEQUENCES = (list, tuple, set, frozenset, deque, Iterator)


def _entries(value: Any) -> Iterable[tuple[Any, Any]] | None:
    """The key/value pairs an encoder would write for ``value``, or None if not a mapping.

    Dataclasses and pydantic models are walked through their fields, like mappings,
    since encoders expand them too.
    """
    if isinstance(value, Mapping):
        return value.items()
    if isinstance(value, BaseModel):
        return ((name, getattr(value, name, None)) for name in type(value).model_fields)
    if is_dataclass(value) and not isinstance(value, type):
        return ((f.name, getattr(value, f.name, None)) for f in fields(value))
    return None


Bounded = tuple[Any, int, bool]
"""A value cut to the bounds, its estimated JSON size, and whether anything was cut.

A plain tuple: the pipeline bounds a few parts of every event, and building a named
tuple costs several times as much as a tuple."""


class _Walk:
    """One bounded copy: a byte budget spent as the value is copied, depth first."""

    __slots__ = ("budget", "max_depth", "path", "truncated")

    def __init__(self, max_depth: int, budget: int) -> None:
        self.max_depth = max_depth
        self.budget = budget
        self.truncated = False
        self.path: set[int] = set()  # containers being copied: one seen again is a cycle

    def cut(self) -> str:
        self.truncated = True
        self.budget -= len(TRUNCATED) + 2
        return TRUNCATED

    def copy(self, value: Any, depth: int) -> Any:
        kind = type(value)
        if kind in _LEAVES and kind is not str:
            self.budget -= _SCALAR_SIZE
            return value
        if isinstance(value, str):
            if len(value) + 2 <= self.budget:
                self.budget -= len(value) + 2
                return value
            keep = max(self.budget - len(TRUNCATED) - 2, 0)
            self.budget = 0
            self.truncated = True
            return str(value[:keep]) + TRUNCATED
        if isinstance(value, bytes | bytearray):
            if len(value) > self.budget:
                return self.cut()
            self.budget -= len(value)
            return value
        entries = _entries(value)
        if entries is None and not isinstance(value, _SEQUENCES):
            # Encoders refuse other types or write them as one scalar.
            self.budget -= _SCALAR_SIZE
            return value
        if depth >= self.max_depth or id(value) in self.path:
            return self.cut()
        self.path.add(id(value))
        self.budget -= 2
        try:
            if entries is not None:
                return self._mapping(entries, depth)
            return self._sequence(value, depth)
        finally:
            self.path.discard(id(value))

    def _mapping(self, entries: Iterable[tuple[Any, Any]], depth: int) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for key, item in entries:
            if self.budget <= 0:
                out[_CUT_KEY] = self.cut()
                break
            name = key if type(key) is str else json_key(key)
            if len(name) + _ENTRY_SIZE > self.budget:
                name = self.copy(name, depth)  # cut like a string value
            self.budget -= len(name) + _ENTRY_SIZE
            out[name] = self.copy(item, depth + 1)
        return out

    def _sequence(self, value: Any, depth: int) -> list[Any] | tuple[Any, ...]:
        out: list[Any] = []
        for item in value:
            if self.budget <= 0:
                out.append(self.cut())
                break
            self.budget -= 1
            out.append(self.copy(item, depth + 1))
        return tuple(out) if type(value) is tuple else out


def json_key(key: object) -> str:
    """``key`` as a JSON object key, the way Python's json module writes it.

    ``1`` is ``"1"``, ``True`` is ``"true"``, ``None`` is ``"null"``, ``1.5`` is
    ``"1.5"``; a key of another type is its ``str()``. Every sink then sees the same
    metadata, whether it encodes JSON itself or hands the event to a vendor.
    """
    if isinstance(key, str):
        return str.__str__(key)
    if key is True or key is False or key is None:
        return _JSON_CONSTANTS[key]
    if isinstance(key, int):
        return int.__repr__(key)
    if isinstance(key, float):
        return float.__repr__(key) if math.isfinite(key) else str(finite(key))
    try:
        return str(key)
    except Exception:  # a key whose str() fails still needs a name
        return f"<{type(key).__name__}>"


_JSON_CONSTANTS: dict[bool | None, str] = {True: "true", False: "false", None: "null"}

NOT_FLAT = sys.maxsize
"""What :func:`flat_size` returns for anything but a flat mapping (larger than any bound)."""


def flat_size(data: Mapping[Any, Any]) -> int:
    """The JSON size of a flat mapping of strings and scalars, or :data:`NOT_FLAT`.

    The common case (``{"sku": "A1"}``) is measured without copying.
    """
    size = 2 + _SCALAR_ENTRY_SIZE * len(data)  # a string's quotes count as a scalar
    for key, item in data.items():
        if type(key) is not str:
            return NOT_FLAT
        kind = type(item)
        if kind is str:
            size += len(key) + len(item)
        elif kind in _SCALARS:
            size += len(key)
        else:
            return NOT_FLAT
    return size


class EventBounds:
    """Cuts event metadata and users to a depth and a size.

    :param max_depth: containers nested deeper are replaced by :data:`TRUNCATED`.
    :param max_bytes: estimated JSON size of an event's metadata, and separately of
        its user's attributes, beyond which entries are cut.
    """

    __slots__ = ("max_bytes", "max_depth", "user_key")

    def __init__(self, max_depth: int, max_bytes: int) -> None:
        self.max_depth = max_depth
        self.max_bytes = max_bytes
        # Users are cut once per user object and limits, remembered on the user.
        self.user_key = f"flagport.events.bounds:{max_depth}:{max_bytes}"

    def value(self, value: Any) -> Bounded:
        """A bounded copy of ``value`` (metadata, a part of one, an event's name).

        The common cases are measured, not copied: a string within the size, a flat
        mapping of strings and scalars within it (see :func:`flat_size`).
        """
        kind = type(value)
        if kind is str:
            if len(value) + 2 <= self.max_bytes:
                return (value, len(value) + 2, False)
        elif kind is dict:
            size = flat_size(value)
            if size <= self.max_bytes:
                return (value, size, False)
        walk = _Walk(self.max_depth, self.max_bytes)
        copied = walk.copy(value, 0)
        return (copied, self.max_bytes - walk.budget, walk.truncated)

    def user(self, user: User) -> tuple[User, int, bool]:
        """``user`` with ``custom`` and ``private`` bounded, its event size, whether cut.

        The same user object is returned when nothing had to be cut.
        """
        cache = user.provider_cache
        found: tuple[User, int, bool] | None = cache.get(self.user_key)
        if found is None:
            found = cache[self.user_key] = self._bound_user(user)
        return found

    def _bound_user(self, user: User) -> tuple[User, int, bool]:
        size = 2
        for name, item in user.event_view.items():
            if type(item) is str:
                size += len(name) + len(item) + _ENTRY_SIZE + 2
        if user.custom_ids:
            # Validated strings: measured, never cut (they name the units).
            size += flat_size(user.custom_ids)
        empty = (user.custom, 2, False)
        custom, custom_size, custom_cut = self.value(user.custom) if user.custom else empty
        empty = (user.private, 2, False)
        private, _, private_cut = self.value(user.private) if user.private else empty
        size += custom_size
        if not (custom_cut or private_cut):
            return user, size, False
        fields = {name: getattr(user, name) for name in type(user).model_fields}
        fields.update(custom=custom, private=private)
        return type(user).model_construct(**fields), size, True
