"""Unit tests of the condition language, operator by operator.

Every case in ``CASES`` states the expected answer and is also checked against
GrowthBook's own evaluator, so the table doubles as a record of GrowthBook's
semantics on the edges that matter (types, arrays, missing values).
"""

from __future__ import annotations

from typing import Any

import pytest
from growthbook.core import evalCondition

from flagport.providers.local.conditions import ConditionError, compile_condition, explain_condition
from flagport.providers.local.versions import compare_versions, js_number_to_string, padded_version

SEGMENTS: dict[str, list[Any]] = {"beta": ["12", "99", 7], "flags": [True], "empty": []}

# (condition, attributes, expected)
CASES: list[tuple[dict[str, Any], dict[str, Any], bool]] = [
    # literals and type rules
    ({"country": "US"}, {"country": "US"}, True),
    ({"country": "US"}, {"country": "us"}, False),
    ({"country": "US"}, {}, False),
    ({"n": 1}, {"n": 1.0}, True),
    ({"n": 1}, {"n": True}, False),
    ({"n": 1}, {"n": "1"}, False),
    ({"b": True}, {"b": 1}, False),
    ({"b": False}, {"b": 0}, False),
    ({"b": False}, {"b": False}, True),
    ({"x": None}, {}, True),
    ({"x": None}, {"x": None}, True),
    ({"x": None}, {"x": 0}, False),
    ({"tags": ["a", "b"]}, {"tags": ["a", "b"]}, True),
    ({"tags": ["a", "b"]}, {"tags": ["b", "a"]}, False),
    ({"tags": [1]}, {"tags": [True]}, False),
    ({"tags": "a"}, {"tags": ["a"]}, False),
    ({"o": {"x": 1, "y": 2}}, {"o": {"x": 1, "y": 2}}, True),
    ({"o": {"x": 1, "y": 2}}, {"o": {"y": 2, "x": 1}}, False),
    ({"o": {"1": 1, "0": 0}}, {"o": {"0": 0, "1": 1}}, True),  # integer keys sort first in JS
    ({"o": {"x": 1, "$y": 2}}, {"o": {"x": 1, "$y": 2}}, True),  # mixed keys: a literal
    ({"country": {}}, {}, True),  # an empty operator object has no constraint
    ({}, {}, True),
    # dot paths
    ({"a.b.c": 1}, {"a": {"b": {"c": 1}}}, True),
    ({"a.b": 1}, {"a": 1}, False),
    ({"tags.0": "x"}, {"tags": ["x", "y"]}, True),
    ({"tags.01": "x"}, {"tags": ["x", "y"]}, False),
    ({"tags.length": 2}, {"tags": ["x", "y"]}, True),
    ({"a.b": 1}, {"a.b": 1}, False),  # a dotted key is always a path
    # $eq / $ne
    ({"n": {"$eq": 1}}, {"n": 1.0}, True),
    ({"n": {"$eq": 1}}, {"n": True}, False),
    ({"n": {"$ne": 1}}, {"n": True}, True),
    ({"l": {"$eq": [1]}}, {"l": [1]}, False),  # containers are never ===
    ({"l": {"$ne": {"x": 1}}}, {"l": {"x": 1}}, True),
    ({"n": {"$ne": "x"}}, {}, True),
    # ordering
    ({"n": {"$gt": 1}}, {"n": 2}, True),
    ({"n": {"$gte": 2}}, {"n": 2.0}, True),
    ({"n": {"$lt": 10}}, {"n": "9"}, False),
    ({"n": {"$lt": 10}}, {"n": True}, False),
    ({"n": {"$lt": 10}}, {}, False),
    ({"s": {"$lt": "b"}}, {"s": "a"}, True),
    ({"s": {"$lt": "B"}}, {"s": "a"}, False),
    ({"s": {"$gt": "10"}}, {"s": "9"}, True),  # strings order as text
    ({"s": {"$lt": "\ue000"}}, {"s": "😀"}, True),  # UTF-16 code units, as in JS
    ({"s": {"$gt": "\ue000"}}, {"s": "😀"}, False),
    ({"s": {"$lte": "é"}}, {"s": "é"}, True),
    ({"n": {"$gt": 1, "$lt": 3}}, {"n": 2}, True),
    ({"n": {"$gt": 1, "$lt": 3}}, {"n": 3}, False),
    # versions
    ({"v": {"$vgt": "1.2.3"}}, {"v": "1.10.0"}, True),
    ({"v": {"$vlt": "2.0.0"}}, {"v": "2.0.0-beta.1"}, True),
    ({"v": {"$veq": "1.2.3"}}, {"v": "v1.2.3+build.7"}, True),
    ({"v": {"$vgte": "2.0.0"}}, {"v": "2.0.0"}, True),
    ({"v": {"$vlte": "1.9"}}, {"v": "1.10"}, False),
    ({"v": {"$vne": "1.0.0"}}, {"v": 1}, True),  # type mismatch: only $vne passes
    ({"v": {"$veq": "1.0.0"}}, {"v": 1}, False),
    ({"v": {"$veq": 2}}, {"v": 2.0}, True),
    ({"v": {"$vgt": "1.0.0"}}, {}, False),
    ({"v": {"$vne": "1.0.0"}}, {}, True),
    # membership
    ({"c": {"$in": ["US", "CA"]}}, {"c": "CA"}, True),
    ({"c": {"$in": ["US", "CA"]}}, {"c": "ca"}, False),
    ({"c": {"$in": ["US", "CA"]}}, {}, False),
    ({"c": {"$in": [None]}}, {}, True),
    ({"c": {"$nin": ["US", "CA"]}}, {}, True),
    ({"c": {"$in": [1]}}, {"c": True}, False),
    ({"c": {"$in": [True]}}, {"c": 1}, False),
    ({"c": {"$in": [True, 0]}}, {"c": False}, False),
    ({"c": {"$in": [1]}}, {"c": 1.0}, True),
    ({"c": {"$in": ["1"]}}, {"c": 1}, False),
    ({"c": {"$in": [["US"]]}}, {"c": ["US"]}, False),
    ({"c": {"$in": [{"x": 1}]}}, {"c": {"x": 1}}, False),
    ({"tags": {"$in": ["a", "z"]}}, {"tags": ["x", "a"]}, True),  # any element
    ({"tags": {"$in": ["a", "z"]}}, {"tags": []}, False),
    ({"tags": {"$nin": ["a", "z"]}}, {"tags": ["x", "a"]}, False),
    ({"tags": {"$in": [1]}}, {"tags": [True, "1"]}, False),
    ({"tags": {"$in": [0]}}, {"tags": [False, 0.0]}, True),
    ({"tags": {"$in": ["a"]}}, {"tags": [["a"], {"x": 1}, "a"]}, True),
    ({"c": {"$ini": ["us", "ca"]}}, {"c": "US"}, True),
    ({"c": {"$ini": ["ÜNÏ"]}}, {"c": "ünï"}, True),
    ({"c": {"$nini": ["us"]}}, {"c": "US"}, False),
    ({"tags": {"$ini": ["A"]}}, {"tags": ["b", "a"]}, True),
    # segments
    ({"user_id": {"$inGroup": "beta"}}, {"user_id": "12"}, True),
    ({"user_id": {"$inGroup": "beta"}}, {"user_id": 12}, False),
    ({"user_id": {"$inGroup": "beta"}}, {"user_id": 7}, True),
    ({"user_id": {"$notInGroup": "beta"}}, {"user_id": "13"}, True),
    ({"user_id": {"$inGroup": "empty"}}, {"user_id": "13"}, False),
    ({"flag": {"$inGroup": "flags"}}, {"flag": 1}, False),
    ({"ids": {"$inGroup": "beta"}}, {"ids": ["1", "99"]}, True),
    # $all
    ({"tags": {"$all": ["a", "b"]}}, {"tags": ["b", "c", "a"]}, True),
    ({"tags": {"$all": ["a", "b"]}}, {"tags": ["a"]}, False),
    ({"tags": {"$all": ["a"]}}, {"tags": "a"}, False),
    ({"tags": {"$all": []}}, {"tags": []}, True),
    ({"tags": {"$all": [{"$gt": 5}, 1]}}, {"tags": [1, 7]}, True),
    ({"tags": {"$alli": ["A", "b"]}}, {"tags": ["a", "B"]}, True),
    ({"tags": {"$all": ["A"]}}, {"tags": ["a"]}, False),
    # $elemMatch
    ({"nums": {"$elemMatch": {"$gt": 5}}}, {"nums": [1, 7]}, True),
    ({"nums": {"$elemMatch": {"$gt": 5}}}, {"nums": [1, 2]}, False),
    ({"nums": {"$elemMatch": {"$gt": 5}}}, {"nums": 7}, False),
    ({"nums": {"$elemMatch": {"$exists": False}}}, {"nums": [None, None]}, False),  # null skipped
    ({"nums": {"$elemMatch": {"$type": "null"}}}, {"nums": [None]}, False),
    ({"nums": {"$elemMatch": {"$eq": 0}}}, {"nums": [0]}, True),  # falsy elements count
    ({"items": {"$elemMatch": {"x": 1}}}, {"items": [{"x": 2}, {"x": 1}]}, True),
    ({"items": {"$elemMatch": {"x": 1}}}, {"items": [{"x": 2}]}, False),
    ({"it": {"$elemMatch": {"x": {"$in": [1, 2]}, "y": "a"}}}, {"it": [{"x": 2, "y": "a"}]}, True),
    ({"items": {"$elemMatch": {"$or": [{"x": 1}, {"y": 1}]}}}, {"items": [{"y": 1}]}, True),
    ({"items": {"$elemMatch": {"length": 2}}}, {"items": [["a"], ["a", "b"]]}, True),
    ({"items": {"$elemMatch": {"x": 1}}}, {"items": [1, "x"]}, False),
    ({"items": {"$elemMatch": {}}}, {"items": [0]}, True),
    # $size
    ({"tags": {"$size": 2}}, {"tags": ["a", "b"]}, True),
    ({"tags": {"$size": 0}}, {"tags": []}, True),
    ({"tags": {"$size": {"$gt": 1}}}, {"tags": ["a", "b"]}, True),
    ({"tags": {"$size": 1}}, {"tags": "a"}, False),
    # $exists
    ({"x": {"$exists": True}}, {"x": 0}, True),
    ({"x": {"$exists": True}}, {"x": None}, False),
    ({"x": {"$exists": False}}, {}, True),
    ({"x": {"$exists": 0}}, {}, True),  # truthiness, as GrowthBook
    # $type
    ({"x": {"$type": "number"}}, {"x": 1.5}, True),
    ({"x": {"$type": "number"}}, {"x": True}, False),
    ({"x": {"$type": "boolean"}}, {"x": False}, True),
    ({"x": {"$type": "array"}}, {"x": []}, True),
    ({"x": {"$type": "object"}}, {"x": {}}, True),
    ({"x": {"$type": "null"}}, {}, True),
    ({"x": {"$type": "string"}}, {"x": ""}, True),
    # $not on a value
    ({"c": {"$not": "US"}}, {"c": "DE"}, True),
    ({"c": {"$not": {"$in": ["US"]}}}, {"c": "US"}, False),
    # regular expressions
    ({"e": {"$regex": "@acme\\.com$"}}, {"e": "a@acme.com"}, True),
    ({"e": {"$regex": "^A"}}, {"e": "abc"}, False),
    ({"e": {"$regexi": "^A"}}, {"e": "abc"}, True),
    ({"e": {"$regex": "1"}}, {"e": 1}, False),
    ({"e": {"$notRegex": "^a"}}, {"e": "bcd"}, True),
    ({"e": {"$notRegex": "^a"}}, {}, True),
    ({"e": {"$notRegexi": "^A"}}, {"e": "abc"}, False),
    # logical keys
    ({"$or": [{"c": "US"}, {"c": "CA"}]}, {"c": "CA"}, True),
    ({"$or": [{"c": "US"}, {"c": "CA"}]}, {"c": "DE"}, False),
    ({"$or": []}, {}, True),
    ({"$nor": []}, {}, False),
    ({"$and": []}, {}, True),
    ({"$nor": [{"c": "US"}, {"c": "CA"}]}, {"c": "DE"}, True),
    ({"$and": [{"c": "US"}, {"p": "pro"}]}, {"c": "US", "p": "pro"}, True),
    ({"$and": [{"c": "US"}, {"p": "pro"}]}, {"c": "US"}, False),
    ({"$not": {"c": "US"}}, {"c": "US"}, False),
    ({"$not": {"c": "US"}}, {}, True),
    ({"c": "US", "$or": [{"p": "pro"}, {"p": "team"}]}, {"c": "US", "p": "team"}, True),
    ({"c": "US", "$or": [{"p": "pro"}, {"p": "team"}]}, {"c": "DE", "p": "team"}, False),
]


@pytest.mark.parametrize(("condition", "attributes", "expected"), CASES)
def test_operator_semantics(
    condition: dict[str, Any], attributes: dict[str, Any], expected: bool
) -> None:
    assert evalCondition(attributes, condition, SEGMENTS) is expected, "GrowthBook disagrees"
    assert compile_condition(condition, SEGMENTS)(attributes) is expected


def test_compiled_condition_is_reusable_and_does_not_read_the_mapping_again() -> None:
    condition: dict[str, Any] = {"country": {"$in": ["US"]}, "plan": "pro"}
    compiled = compile_condition(condition)
    condition["country"] = {"$in": ["DE"]}
    condition["plan"] = "free"
    assert compiled({"country": "US", "plan": "pro"}) is True
    assert compiled({"country": "DE", "plan": "free"}) is False


def test_user_attributes_work_directly() -> None:
    from flagport import User

    user = User(user_id="42", country="US", app_version="2.3.1", custom={"plan": "pro"})
    condition = {"country": "US", "app_version": {"$vgte": "2.0.0"}, "plan": {"$in": ["pro"]}}
    assert compile_condition(condition)(user.attributes) is True


# -- rejected conditions: the intentional differences from GrowthBook ----------------

REJECTED: list[tuple[Any, str, str]] = [
    ({"country": {"$inn": ["US"]}}, "country.$inn", "did you mean $in"),
    ({"$nad": [{"a": 1}]}, "$nad", "did you mean $and"),
    ({"$or": [{"a": {"$in": "US"}}]}, "$or[0].a.$in", "list"),
    ({"a": {"$nin": {"x": 1}}}, "a.$nin", "list"),
    ({"a": {"$all": "x"}}, "a.$all", "list"),
    ({"a": {"$regex": "("}}, "a.$regex", "invalid regular expression"),
    ({"a": {"$regexi": 5}}, "a.$regexi", "regular expression"),
    ({"a": {"$lt": True}}, "a.$lt", "number or a string"),
    ({"a": {"$gte": None}}, "a.$gte", "number or a string"),
    ({"a": {"$vgt": [1]}}, "a.$vgt", "version"),
    ({"a": {"$type": "int"}}, "a.$type", "one of"),
    ({"a": {"$elemMatch": [1]}}, "a.$elemMatch", "mapping"),
    ({"a": {"$or": [{"b": 1}]}}, "a.$or", "condition level"),
    ({"$not": "x"}, "$not", "mapping"),
    ({"$or": {"a": 1}}, "$or", "list"),
    ({"$or": [5]}, "$or[0]", "mapping"),
    ({"a": {"$inGroup": "betta"}}, "a.$inGroup", "did you mean beta"),
    ({"a": {"$notInGroup": 3}}, "a.$notInGroup", "segment"),
    ({"$savedGroup": {"id": "g"}}, "$savedGroup", "not supported"),
    ({"a": {"$elemMatch": {"b": {"$bad": 1}}}}, "a.$elemMatch.b.$bad", "unknown operator"),
    ({"a": {"$all": [{"$lt": []}]}}, "a.$all[0].$lt", "number or a string"),
    ([("a", 1)], "", "mapping"),
]


@pytest.mark.parametrize(("condition", "path", "text"), REJECTED)
def test_malformed_conditions_name_the_place(condition: Any, path: str, text: str) -> None:
    with pytest.raises(ConditionError) as info:
        compile_condition(condition, SEGMENTS)
    assert info.value.path == path
    assert text in info.value.message
    assert isinstance(info.value, ValueError)


def test_error_path_is_prefixed() -> None:
    with pytest.raises(ConditionError) as info:
        compile_condition({"a": {"$in": 1}}, path="gates.g.rules[0].when")
    assert info.value.path == "gates.g.rules[0].when.a.$in"
    assert str(info.value).startswith("gates.g.rules[0].when.a.$in: ")


def test_rejected_conditions_never_match_in_growthbook() -> None:
    """What flagport refuses, GrowthBook silently never matches (the reason to refuse)."""
    assert evalCondition({"country": "US"}, {"country": {"$inn": ["US"]}}) is False
    assert evalCondition({"a": "("}, {"a": {"$regex": "("}}) is False
    assert evalCondition({"a": "US"}, {"a": {"$in": "US"}}) is False


def test_undefined_segment_without_segments() -> None:
    with pytest.raises(ConditionError, match="defined segments: none"):
        compile_condition({"user_id": {"$inGroup": "beta"}})


# -- explain -----------------------------------------------------------------------


def test_explain_lists_each_part_with_its_result() -> None:
    condition = {
        "country": {"$in": ["US", "CA"]},
        "$or": [{"plan": "pro"}, {"app_version": {"$vgte": "2.0.0", "$vlt": "3.0.0"}}],
        "$not": {"beta": True},
    }
    attributes = {"country": "DE", "app_version": "2.5.0"}
    assert explain_condition(condition, attributes) == [
        ('country $in ["US", "CA"] (got "DE")', False),
        ("$or", True),
        ('$or[0].plan == "pro" (missing)', False),
        ('$or[1].app_version $vgte "2.0.0" (got "2.5.0")', True),
        ('$or[1].app_version $vlt "3.0.0" (got "2.5.0")', True),
        ("$not", True),
        ("$not.beta == true (missing)", False),
    ]


def test_explain_rejects_malformed_conditions() -> None:
    with pytest.raises(ConditionError):
        explain_condition({"a": {"$inn": []}}, {})


# -- versions ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("left", "right", "expected"),
    [
        ("1.2.3", "1.2.3", 0),
        ("v1.2.3", "1.2.3+build", 0),
        ("1.10.0", "1.9.0", 1),
        ("2.0.0-beta", "2.0.0", -1),
        ("2.0.0-alpha", "2.0.0-beta", -1),
        ("2.0.0-beta.2", "2.0.0-beta.10", -1),
        ("1.2", "1.2.0", -1),  # GrowthBook: only three-part versions get the "~" suffix
        (2, "2", 0),
        ("", "0", 0),
        (None, "0", 0),
    ],
)
def test_compare_versions(left: Any, right: Any, expected: int) -> None:
    assert compare_versions(left, right) == expected


def test_padded_version_matches_growthbook() -> None:
    from growthbook.core import paddedVersionString

    for value in ["1.2.3", "v10.0.1-rc.1+x", "1", "", "a.b", 3, 2.5, 1e21, "\u0661.\u0662"]:
        assert padded_version(value) == paddedVersionString(value)


@pytest.mark.parametrize(
    ("number", "text"),
    [(1, "1"), (2.0, "2"), (0.5, "0.5"), (1e21, "1e+21"), (1.5e-7, "1.5e-7"), (-3, "-3"),
     (123456789012345680000, "123456789012345680000"), (1e-6, "0.000001"), (10**400, "Infinity")],
)  # fmt: skip
def test_js_number_to_string(number: float, text: str) -> None:
    assert js_number_to_string(number) == text


def test_tuples_are_arrays_and_mappings_are_objects() -> None:
    """Beyond JSON (an intentional extension): Python values a User may carry."""
    from types import MappingProxyType

    attributes = {"tags": ("a", "b"), "meta": MappingProxyType({"tier": "gold"})}
    assert compile_condition({"tags": {"$in": ["b"]}})(attributes) is True
    assert compile_condition({"tags": {"$size": 2, "$type": "array"}})(attributes) is True
    assert compile_condition({"tags.1": "b"})(attributes) is True
    assert compile_condition({"meta.tier": "gold", "meta": {"$type": "object"}})(attributes) is True
