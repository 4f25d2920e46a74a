"""``$userBucket``: Statsig's ``user_bucket`` condition, a unit's bucket (0-999) for a salt.

Statsig decides layer allocation and experiment groups with conditions on the unit's
bucket, ``u64(f"{salt}.{unit}") % 1000`` (``u64``: the first 8 bytes of SHA-256,
big-endian; :func:`~flagport.providers.local.bucketing.statsig_u64`). In a flags file::

    {"$userBucket": {"salt": "checkout_layer", "unit": "companyID", "is": {"$lt": 500}}}

- ``salt``: the text before the dot (Statsig's ``additionalValues.salt``: the layer's
  or experiment's salt);
- ``unit`` (default ``user_id``): ``user_id``/``userID`` (any case) is the user's id,
  anything else a ``custom_ids`` key, looked up as written and then in lower case, as
  Statsig's ``get_unit_id`` does; ``$statsig.<idType>`` is Statsig's id type as written
  (only ``userID``, any case, is the user's id: ``$statsig.user_id`` is the custom id
  ``user_id``). A user without the unit is hashed as the empty text (Statsig hashes
  ``"<salt>."``), so it still has a bucket;
- ``is``: the test of the bucket number, in the file's condition language and
  semantics (``{"$lt": 500}``, ``{"$ini": [3, 17]}`` ...).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any, Final

from flagport.providers.local.bucketing import statsig_u64
from flagport.providers.local.conditions.options import Condition, ConditionError

if TYPE_CHECKING:
    from flagport.providers.local.conditions.values import Predicate
    from flagport.user import User

__all__ = [
    "BUCKETS",
    "STATSIG_UNIT",
    "compile_user_bucket",
    "statsig_custom_id",
    "statsig_id_type",
    "statsig_unit_id",
    "statsig_unit_lookup",
    "user_bucket",
]

BUCKETS = 1000
"""Statsig's bucket space: buckets are 0..999."""
#: A unit name ``$statsig.<idType>`` hashes the unit Statsig's SDK finds for that id type
#: (:func:`statsig_unit_lookup`): never an attribute, unlike a plain unit name.
STATSIG_UNIT: Final = "$statsig."
_KEYS = ("salt", "unit", "is")


def user_bucket(salt: str, unit: str) -> int:
    """Statsig's ``user_bucket`` of ``unit`` for ``salt``: ``u64(f"{salt}.{unit}") % 1000``."""
    return statsig_u64(f"{salt}.{unit}") % BUCKETS


def statsig_custom_id(custom_ids: Mapping[str, str], id_type: str) -> str | None:
    """The custom id Statsig's ``get_unit_id`` finds for ``id_type``: the key as
    written, else the key in lower case (an empty id as written is kept: no fallback)."""
    found = custom_ids.get(id_type)
    return custom_ids.get(id_type.lower()) if found is None else found


def statsig_unit_lookup(id_type: str) -> Callable[[User], str | None]:
    """``user -> the unit id`` Statsig's ``get_unit_id`` finds for ``id_type``, None
    when the user has none (or it is empty).

    ``userID`` (any case) is the user's id; any other id type, ``user_id`` included, is
    a ``custom_ids`` key only (:func:`statsig_custom_id`).
    """
    if id_type.lower() == "userid":
        return lambda user: user.user_id or None
    return lambda user: statsig_custom_id(user.custom_ids, id_type) or None


def statsig_id_type(unit: str) -> str:
    """A unit of the flags file as Statsig's id type: ``$statsig.<idType>`` is that id
    type as written; otherwise ``user_id`` (any case) is ``userID``, the user's id."""
    if unit.startswith(STATSIG_UNIT):
        return unit[len(STATSIG_UNIT) :]
    return "userID" if unit.lower() == "user_id" else unit


def statsig_unit_id(unit: str) -> Callable[[User], str]:
    """``user -> the unit id Statsig hashes`` (``""`` when the user has none), for a
    unit of the flags file (:func:`statsig_id_type`)."""
    lookup = statsig_unit_lookup(statsig_id_type(unit))
    return lambda user: lookup(user) or ""


def compile_user_bucket(
    value: Any, path: str, compile_test: Callable[[Any, str], Predicate]
) -> Condition:
    """Compile the mapping of a ``$userBucket`` key.

    :param compile_test: (test, path) -> predicate on the bucket number, under the
        condition's semantics.
    :raises ConditionError: not a mapping, an unknown key, no text salt or no test.
    """
    if not isinstance(value, Mapping):
        raise ConditionError(
            path,
            f"$userBucket takes a mapping with salt, unit and is, got {value!r}; e.g. "
            '{"$userBucket": {"salt": "my_layer", "is": {"$lt": 500}}}',
        )
    unknown = [str(k) for k in value if k not in _KEYS]
    if unknown:
        raise ConditionError(
            f"{path}.{unknown[0]}",
            f"unknown key {unknown[0]!r} in $userBucket; use salt, unit and is",
        )
    salt = value.get("salt")
    if not isinstance(salt, str):
        raise ConditionError(f"{path}.salt", f"salt must be text, got {salt!r}")
    unit = value.get("unit", "user_id")
    if not isinstance(unit, str) or not unit:
        raise ConditionError(
            f"{path}.unit", f"unit must be user_id or a custom id type, got {unit!r}"
        )
    if "is" not in value:
        raise ConditionError(
            f"{path}.is", 'missing: the test of the bucket (0-999), e.g. "is": {"$lt": 500}'
        )
    test = compile_test(value["is"], f"{path}.is")
    unit_id = statsig_unit_id(unit)
    prefix = f"{salt}."

    def in_bucket(attributes: Any, user: User) -> bool:
        return test(statsig_u64(prefix + unit_id(user)) % BUCKETS)

    return in_bucket
