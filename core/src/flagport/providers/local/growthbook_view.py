"""A user as the growthbook provider shows it to GrowthBook's SDK, for imported files.

The growthbook provider sends GrowthBook one flat attribute dict: every ``custom_ids``
entry, then ``id`` = ``user_id``, then the attributes conditions see (built-in fields,
``custom``, ``private``), a later source winning a clash. So GrowthBook's ``id`` is a
``custom`` attribute ``id`` when the user has one, else the user id, else a custom id
``id``; and ``company_id`` is the attribute, else the custom id. A flags file imported
from GrowthBook tests that dict (``{"$growthbook": {...}}`` in a condition) and hashes
it (unit ``$growthbook.<attribute>``, the attribute's literal name as GrowthBook reads
it), so it answers as the SDK behind the provider does for every user.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from flagport.user import User

__all__ = ["GROWTHBOOK_UNIT", "as_growthbook", "growthbook_attributes"]

#: A unit name ``$growthbook.<attribute>`` hashes that attribute of :func:`growthbook_attributes`.
GROWTHBOOK_UNIT = "$growthbook."
_CACHE_KEY = "flagport.growthbook_view"


def as_growthbook(user: User, flat: Mapping[str, Any]) -> dict[str, Any]:
    """GrowthBook's attribute dict for ``user`` whose attributes are ``flat`` (all of
    them, or only the public ones): custom ids, then ``id``, then ``flat``. The one
    mapping the growthbook provider and imported files share."""
    attributes: dict[str, Any] = dict(user.custom_ids)
    if user.user_id is not None:
        attributes["id"] = user.user_id
    attributes.update(flat)
    return attributes


def growthbook_attributes(user: User) -> Mapping[str, Any]:
    """The attributes the growthbook provider sends for ``user`` (cached on the user)."""
    cache = user.provider_cache
    found: Mapping[str, Any] | None = cache.get(_CACHE_KEY)
    if found is None:
        cache[_CACHE_KEY] = found = as_growthbook(user, user.attributes)
    return found
