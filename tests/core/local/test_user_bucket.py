"""``$userBucket``: Statsig's bucket of a unit, in a flags file.

Agreement with Statsig's SDK over random layers, experiments and gates is
``tests/statsig/test_layers_differential.py``; here, the arithmetic, the unit lookup
and the located errors.
"""

from __future__ import annotations

from hashlib import sha256
from typing import Any

import pytest

from flagport import User
from flagport.providers.local import LocalProvider
from flagport.providers.local.conditions import ConditionError, ConditionOptions, compile_audited
from flagport.providers.local.conditions.statsig_bucket import user_bucket
from flagport.providers.local.units import unit_getter

STATSIG = ConditionOptions(semantics="statsig")


def bucket_of(salt: str, unit: str) -> int:
    return int.from_bytes(sha256(f"{salt}.{unit}".encode()).digest()[:8], "big") % 1000


def test_the_bucket_is_statsigs_sha256_arithmetic() -> None:
    for unit in ["u1", "", "ünï-😀", "42"]:
        assert user_bucket("layer", unit) == bucket_of("layer", unit)


STATSIG_UNITS = [
    (User(user_id="u1"), "userID", "u1"),
    (User(user_id="u1"), "USERID", "u1"),
    (User(), "userID", ""),  # no user id: hashed as the empty id, as Statsig does
    (User(custom_ids={"companyID": "c1"}), "companyID", "c1"),
    (User(custom_ids={"companyid": "c2"}), "companyID", "c2"),  # lower-case fallback
    (User(custom_ids={"companyID": ""}), "companyID", ""),
    (User(custom={"companyID": "attr"}), "companyID", ""),  # attributes are not ids
    (User(private={"companyID": "attr"}), "companyID", ""),
    # Statsig's id type user_id is a custom id (only userID, any case, is the user id).
    (User(user_id="u1", custom_ids={"user_id": "c3"}), "$statsig.user_id", "c3"),
    (User(user_id="u1", custom_ids={"user_id": "c3"}), "$statsig.USER_ID", "c3"),
    (User(user_id="u1"), "$statsig.user_id", ""),
]
# In a flags file's own words, user_id (any case) is the user's id.
FLAGPORT_UNITS = [
    (User(user_id="u1", custom_ids={"user_id": "c3"}), "user_id", "u1"),
    (User(user_id="u1", custom_ids={"user_id": "c3"}), "USER_ID", "u1"),
]


@pytest.mark.parametrize(("user", "id_type", "unit"), STATSIG_UNITS + FLAGPORT_UNITS)
def test_the_unit_is_found_as_statsig_finds_it(user: User, id_type: str, unit: str) -> None:
    expected = bucket_of("s", unit)
    for test, holds in (({"$eq": expected}, True), ({"$ne": expected}, False)):
        condition = {"$userBucket": {"salt": "s", "unit": id_type, "is": test}}
        compiled = compile_audited(condition, STATSIG)
        assert compiled(user.attributes, user) is holds


@pytest.mark.parametrize(("user", "id_type", "unit"), STATSIG_UNITS)
def test_a_statsig_unit_hashes_what_statsig_hashes(user: User, id_type: str, unit: str) -> None:
    # The rule unit $statsig.<idType> (what the importer writes for a custom id type)
    # finds the same unit as $userBucket; a missing one is no unit, or "" when the rule
    # hashes a missing unit as the empty id.
    name = id_type if id_type.startswith("$statsig.") else f"$statsig.{id_type}"
    assert unit_getter(name, "statsig", missing_as_empty=True)(user) == unit
    assert unit_getter(name, "statsig")(user) == (unit or None)


def test_a_plain_unit_name_still_falls_back_to_the_attribute() -> None:
    # A hand-written ``unit: companyID`` keeps its meaning: the custom id, else the attribute.
    user = User(custom={"companyID": "attr"})
    assert unit_getter("companyID", "statsig")(user) == "attr"
    assert unit_getter("$statsig.companyID", "statsig")(user) is None


def test_the_test_follows_the_file_semantics() -> None:
    # Statsig's "any" compares text: a bucket matches "17" as well as 17.
    user = next(User(user_id=f"u{i}") for i in range(10_000) if bucket_of("s", f"u{i}") == 17)
    for semantics, matches in (("statsig", True), ("growthbook", False)):
        options = ConditionOptions(semantics=semantics)  # type: ignore[arg-type]
        test = compile_audited({"$userBucket": {"salt": "s", "is": {"$in": ["17"]}}}, options)
        assert test(user.attributes, user) is matches


@pytest.mark.parametrize(
    ("condition", "where", "says"),
    [
        ({"$userBucket": [1]}, "$userBucket", "takes a mapping with salt, unit and is"),
        ({"$userBucket": {"salt": "s", "is": {}, "seed": 1}}, "$userBucket.seed", "unknown key"),
        ({"$userBucket": {"salt": 7, "is": {}}}, "$userBucket.salt", "salt must be text"),
        ({"$userBucket": {"salt": "s", "unit": "", "is": {}}}, "$userBucket.unit", "unit must"),
        ({"$userBucket": {"salt": "s"}}, "$userBucket.is", "missing: the test of the bucket"),
        ({"$userBucket": {"salt": "s", "is": {"$lt": "x"}}}, "$userBucket.is.$lt", ""),
    ],
)
def test_a_malformed_user_bucket_is_a_located_error(
    condition: dict[str, Any], where: str, says: str
) -> None:
    with pytest.raises(ConditionError) as caught:
        compile_audited(condition, STATSIG)
    assert caught.value.path == where
    assert says in caught.value.message


def test_a_file_with_a_bad_user_bucket_names_the_place() -> None:
    flags = {"gates": {"g": {"rules": [{"when": {"$userBucket": {"salt": "s"}}}]}}}
    with pytest.raises(Exception, match=r"gates\.g\.rules\[0\]\.when\.\$userBucket\.is"):
        LocalProvider(LocalProvider.Options(flags=flags, watch=False)).start()
