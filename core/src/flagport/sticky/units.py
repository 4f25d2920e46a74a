"""How a sticky unit is named in the store, and the checks every sticky split shares."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from flagport.user import User

__all__ = ["UnitOf", "attribute_unit", "checked_minimum", "store_unit", "unit_key"]

UnitOf = Callable[["User"], "str | None"]
#: A unit name that reads the attribute GrowthBook's SDK is sent (``$growthbook.id``).
_GROWTHBOOK_UNIT = "$growthbook."


def unit_key(unit: str, value: str) -> str:
    """The store's key of the unit ``unit`` = ``value``: the user id itself for
    ``user_id`` (what a request scope loads), else ``"<unit>||<value>"`` (the way
    GrowthBook keys its sticky documents, so both name a unit alike).
    """
    return value if unit == "user_id" else f"{unit}||{value}"


def store_unit(unit: str) -> str:
    """The unit name a stored assignment is keyed by: ``$growthbook.<attribute>`` is keyed
    as GrowthBook keys its documents (``id`` is the user's own unit, another attribute
    ``<attribute>||<value>``), so both providers name a unit alike."""
    if unit.startswith(_GROWTHBOOK_UNIT):
        attribute = unit[len(_GROWTHBOOK_UNIT) :]
        return "user_id" if attribute == "id" else attribute
    return unit


def checked_minimum(version: int, minimum: int, where: str, problems: list[tuple[str, str]]) -> int:
    """``minimum``, or ``version`` with a located problem when the minimum is above it."""
    if minimum > version:
        problems.append(
            (
                where,
                f"min_bucket_version {minimum} is above bucket_version {version}; "
                "raise bucket_version or lower min_bucket_version",
            )
        )
        return version
    return minimum


def attribute_unit(unit: str | None, mode: str) -> UnitOf | None:
    """user -> the text of an attribute unit (``$growthbook.id``) as the split hashes it;
    None for ``user_id`` and custom ids (:meth:`User.unit` reads them)."""
    if unit is None or not unit.startswith("$"):
        return None
    from flagport.providers.local.units import unit_getter

    return unit_getter(unit, mode)
