"""Bucketing units: which text a rule hashes for a user.

A unit is ``user_id``, a ``custom_ids`` key, or an attribute (its literal name first,
then a dot path into nested values); ``$growthbook.<name>`` is the attribute ``<name>``
as the growthbook provider sends it (:mod:`.growthbook_view`), ``$featbit.<name>`` the
property ``<name>`` as the featbit provider sends it (:mod:`.featbit_view`), and
``$statsig.<idType>`` the unit Statsig's SDK finds for that id type (the user id, or a
custom id only: never an attribute; :mod:`.conditions.statsig_bucket`). Attribute
values that are not text become text the way the hash's vendor writes them, because
that text is what the vendor hashed:

- ``growthbook`` (v1 and v2): like GrowthBook's SDKs, only a non-empty string or a
  finite non-zero number identifies a unit; numbers are written as JavaScript's
  ``String(number)`` (``1.0`` -> ``"1"``). Booleans, ``0`` and ``""`` are no unit.
- ``featbit``: the text FeatBit compares and hashes, as the ``featbit`` condition
  semantics and the FeatBit provider write it (``featbit_text``: ``True`` ->
  ``"true"``, ``2.5`` -> ``"2.5"``).
- ``statsig``: unit ids are strings; a number is written as Python ``str``,
  other values (booleans, lists) are no unit.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from flagport.providers.local.conditions.featbit import featbit_text
from flagport.providers.local.conditions.statsig_bucket import STATSIG_UNIT, statsig_unit_lookup
from flagport.providers.local.featbit_view import (
    FEATBIT_UNIT,
    featbit_properties,
    featbit_property,
)
from flagport.providers.local.growthbook_view import GROWTHBOOK_UNIT, growthbook_attributes
from flagport.providers.local.versions import js_number_to_string

if TYPE_CHECKING:
    from flagport.user import User

__all__ = ["UnitGetter", "attribute_value", "unit_getter", "unit_text"]

UnitGetter = Callable[["User"], "str | None"]
"""A user -> the unit's text, or None when the user has none."""


def attribute_value(attributes: Mapping[str, Any], name: str) -> Any:
    """``attributes[name]``, else the dot path ``name`` into nested mappings (or None)."""
    found = attributes.get(name)
    if found is not None or "." not in name:
        return found
    value: Any = attributes
    for part in name.split("."):
        if not isinstance(value, Mapping):
            return None
        value = value.get(part)
    return value


def _growthbook_text(value: Any) -> str | None:
    if isinstance(value, str):
        return value or None
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    try:
        usable = value != 0 and math.isfinite(value)
    except OverflowError:  # an int beyond a double is Infinity in JavaScript
        usable = False
    return js_number_to_string(value) if usable else None


def _featbit_text(value: Any) -> str | None:
    return None if value is None else featbit_text(value)


def _statsig_text(value: Any) -> str | None:
    if isinstance(value, str):
        return value or None
    if isinstance(value, int | float) and not isinstance(value, bool):
        return str(value)
    return None


_TEXT: dict[str, Callable[[Any], str | None]] = {
    "growthbook": _growthbook_text,
    "growthbook_v1": _growthbook_text,
    "featbit": _featbit_text,
    "statsig": _statsig_text,
}


def unit_text(value: Any, hash_mode: str) -> str | None:
    """An attribute value as the unit text the ``hash_mode``'s vendor hashes."""
    return _TEXT[hash_mode](value)


def unit_getter(name: str, hash_mode: str, *, missing_as_empty: bool = False) -> UnitGetter:
    """Build ``user -> unit text`` for one unit name and hash.

    :param missing_as_empty: a user without the unit gets ``""`` (FeatBit hashes the
        flag key alone) rather than None.
    """
    text = _TEXT[hash_mode]
    fallback = "" if missing_as_empty else None

    if name == "user_id":

        def by_user_id(user: User) -> str | None:
            return user.user_id or fallback

        return by_user_id

    if name.startswith(GROWTHBOOK_UNIT):
        attribute = name[len(GROWTHBOOK_UNIT) :]

        def by_growthbook(user: User) -> str | None:
            value = text(growthbook_attributes(user).get(attribute))
            return fallback if value is None else value

        return by_growthbook

    if name.startswith(FEATBIT_UNIT):
        prop = name[len(FEATBIT_UNIT) :]

        def by_featbit(user: User) -> str | None:
            value = text(featbit_property(featbit_properties(user), prop))
            return fallback if value is None else value

        return by_featbit

    if name.startswith(STATSIG_UNIT):
        unit_id = statsig_unit_lookup(name[len(STATSIG_UNIT) :])

        def by_statsig(user: User) -> str | None:
            return unit_id(user) or fallback

        return by_statsig

    # Statsig's SDK finds a custom id as written, then under its name in lower case.
    lowered = name.lower() if hash_mode == "statsig" else name

    def by_name(user: User) -> str | None:
        ids = user.custom_ids
        found = ids.get(name)
        if found is None:
            found = ids.get(lowered)
        if found:
            return found
        value = text(attribute_value(user.attributes, name))
        return fallback if value is None else value

    return by_name
