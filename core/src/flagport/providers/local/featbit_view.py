"""A user as the featbit provider shows it to FeatBit's SDK, for imported files.

The featbit provider sends FeatBit one flat dict of text properties: ``key`` = the
user id, ``name`` = ``custom["name"]`` when set and not blank, else the user id, the
built-in fields, ``custom`` (lists and dicts as JSON, nested dict values also under
``<name>.<path>``), ``private``, then every ``custom_ids`` entry (a custom id wins
over an attribute of the same name). FeatBit's SDK reads ``key``/``keyid``/``name`` in
any case as its own fields and every other property as written (:func:`featbit_property`);
an attribute or custom id of one of those names is dropped (``notice``), so the user id
stays FeatBit's key.
A flags file imported from FeatBit tests that dict (``{"$featbit": {...}}`` in a
condition) and hashes it (unit ``$featbit.<property>``), so it answers as the SDK
behind the provider does for every user.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any, Final

from flagport.user import BUILTIN_FIELDS

if TYPE_CHECKING:
    from flagport.user import User

__all__ = [
    "FEATBIT_UNIT",
    "PRIVATE_MARKER",
    "Notice",
    "as_featbit",
    "featbit_properties",
    "featbit_property",
    "featbit_text",
]

#: A unit name ``$featbit.<property>`` hashes that property of :func:`featbit_properties`.
FEATBIT_UNIT: Final = "$featbit."
#: Property listing a user's private attribute names (JSON); the featbit provider's
#: insight sender removes those properties and the marker before anything leaves.
PRIVATE_MARKER: Final = "flagport.private"
#: ``notice(kind, origin, name)`` hears of a lossy step: ``reserved`` (an attribute or
#: custom id named like FeatBit's own fields, dropped), ``json`` (a list or dict sent as JSON),
#: ``unit`` (a custom id replacing a different attribute value).
Notice = Callable[[str, str, str], None]

#: FeatBit's own user fields (any case) -> the key the provider sends them under.
_FIELDS: Final = {"key": "key", "keyid": "key", "name": "name"}
_CACHE_KEY = "flagport.featbit_view"


def featbit_text(value: Any) -> str:
    """A value as the text FeatBit compares (JSON spelling for non-strings: ``true``,
    ``1.5``, lists and dicts as compact JSON; the SDK alone would write ``True``)."""
    if isinstance(value, str):
        return value
    if isinstance(value, bool) or value is None:
        return json.dumps(value)
    if isinstance(value, int | float):
        return str(value) if math.isfinite(value) else json.dumps(str(value))
    return json.dumps(value, separators=(",", ":"), sort_keys=True, default=str)


def _ignore(kind: str, origin: str, name: str) -> None:
    return None


def as_featbit(user: User, notice: Notice = _ignore) -> dict[str, str]:
    """FeatBit's property dict for ``user``: the one mapping the featbit provider and
    imported files share (the provider checks the user id and reports ``notice``)."""
    props: dict[str, str] = {}
    if user.user_id is not None:
        props["key"] = user.user_id
    name = user.custom.get("name")
    text = featbit_text(name) if name is not None else ""
    if text.strip():
        props["name"] = text
    elif user.user_id is not None:
        props["name"] = user.user_id
    for builtin in BUILTIN_FIELDS[1:]:
        value = getattr(user, builtin)
        if value is not None:
            props[builtin] = value
    for key, value in user.custom.items():
        if key != "name":
            _put(props, key, value, "custom", notice)
    hidden: dict[str, str] = {}
    for key, value in user.private.items():
        _put(hidden, key, value, "private", notice)
    props.update(hidden)
    for unit, unit_id in user.custom_ids.items():
        if unit.lower() in _FIELDS:
            # FeatBit's key is the user id and its name the display name: a custom id
            # named like them would replace the user FeatBit sees.
            notice("reserved", "custom_ids", unit)
            continue
        if unit in props and props[unit] != unit_id:
            notice("unit", "custom_ids", unit)
        props[unit] = unit_id
    private = sorted(k for k in hidden if k not in user.custom_ids)
    if private:
        props[PRIVATE_MARKER] = json.dumps(private, separators=(",", ":"))
    return props


def _put(props: dict[str, str], key: str, value: Any, origin: str, notice: Notice) -> None:
    if value is None:
        return
    if key.lower() in _FIELDS:
        notice("reserved", origin, key)
        return
    if isinstance(value, Mapping | list | tuple | set | frozenset):
        notice("json", origin, key)
        if isinstance(value, set | frozenset):
            value = sorted(value, key=str)
        props[key] = featbit_text(value)
        if isinstance(value, Mapping):
            _flatten(props, key, value)
        return
    props[key] = featbit_text(value)


def _flatten(props: dict[str, str], prefix: str, value: Mapping[str, Any]) -> None:
    # Dot paths let a FeatBit condition on "address.city" see a nested value, as the
    # local evaluator and GrowthBook allow.
    for sub, inner in value.items():
        path = f"{prefix}.{sub}"
        if isinstance(inner, Mapping):
            _flatten(props, path, inner)
        elif inner is not None and path not in props:
            props[path] = featbit_text(inner)


def featbit_properties(user: User) -> Mapping[str, str]:
    """The properties the featbit provider sends for ``user`` (cached on the user)."""
    cache = user.provider_cache
    found: Mapping[str, str] | None = cache.get(_CACHE_KEY)
    if found is None:
        cache[_CACHE_KEY] = found = as_featbit(user)
    return found


def featbit_property(properties: Mapping[str, str], name: str) -> str | None:
    """The property ``name`` as FeatBit's SDK reads it (``FBUser.get``): ``key``,
    ``keyid`` and ``name`` in any case are its own fields, the rest as written."""
    field = _FIELDS.get(name.lower())
    return properties.get(field if field is not None else name)
