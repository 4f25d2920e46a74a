"""Differential test: FeatBit clauses, translated, match as FeatBit's SDK matches them.

Hypothesis writes FeatBit rule clauses and segments (included and excluded keys,
rules of clauses) (every operator, values as FeatBit stores them:
text, JSON lists for ``IsOneOf``) and users with odd attributes (numbers, booleans,
lists, text that looks like numbers, missing properties, custom ids);
:func:`~flagport.providers.local.conditions.featbit.featbit_condition` translates each
clause, and a flags file with ``semantics: featbit`` must answer as ``fbclient``'s
evaluator does for the user the FeatBit provider sends.
"""

from __future__ import annotations

import json
from typing import Any

from fbclient.common_types import FBUser
from fbclient.evaluator import Evaluator
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from flagport import User
from flagport.providers.local.conditions import ConditionOptions, compile_audited
from flagport.providers.local.conditions.featbit import (
    FEATBIT_CLAUSES,
    featbit_condition,
    featbit_segment,
)
from flagport.providers.local.conditions.setup import build_options
from flagport_featbit._convert import featbit_user

TEXTS = ["pro", "PRO", "", "1", "1.0", "10", "2.5", "abc", "true", "True", "false", " 7",
         "1e3", "nan", "null", "[1,2]", "ü", "a.b"]  # fmt: skip
PROPERTIES = ["plan", "age", "flag", "tags", "company_id", "key", "keyId", "name", "email"]
values = st.one_of(
    st.sampled_from(TEXTS),
    st.sampled_from([0, 1, 10, 2.5, -1.0, 1e21]),
    st.booleans(),
    st.none(),
    st.lists(st.sampled_from([1, "a"]), max_size=2),
)
REGEXES = ["^pro$", "^P", "[0-9]+", "e", "^$", "ü"]
OPERATORS = sorted([*FEATBIT_CLAUSES, "IsTrue", "IsFalse"])


@st.composite
def clauses(draw: st.DrawFn) -> dict[str, Any]:
    op = draw(st.sampled_from(OPERATORS))
    if op in ("IsOneOf", "NotOneOf"):
        value: Any = json.dumps(draw(st.lists(st.sampled_from(TEXTS), max_size=4)))
    elif "Regex" in op:
        value = draw(st.sampled_from(REGEXES))
    else:
        value = draw(st.sampled_from(TEXTS))
    return {"property": draw(st.sampled_from(PROPERTIES)), "op": op, "value": value}


users = st.builds(
    lambda uid, custom, ids, email: User(
        user_id=uid, custom=custom, custom_ids=ids, **({"email": email} if email else {})
    ),
    st.sampled_from(["u1", "10", "pro", "True"]),
    st.dictionaries(st.sampled_from(["plan", "age", "flag", "tags", "name"]), values, max_size=4),
    st.dictionaries(st.just("company_id"), st.sampled_from(["c1", "10"]), max_size=1),
    st.sampled_from([None, "a@b.io", "PRO"]),
)
EVALUATOR = Evaluator(lambda key: None, lambda key: None)


@settings(
    max_examples=300,
    derandomize=True,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(clause=clauses(), people=st.lists(users, min_size=1, max_size=8))
# A None attribute is a missing property to FeatBit (found by an older hypothesis's draw).
@example(
    clause={"property": "plan", "op": "StartsWith", "value": ""},
    people=[User(user_id="u1", custom={"plan": None})],
)
def test_translated_clauses_match_as_featbit_does(
    clause: dict[str, Any], people: list[User]
) -> None:
    condition = featbit_condition(clause)
    assert condition is not None
    test = compile_audited(condition, ConditionOptions(semantics="featbit"))
    for user in people:
        expected = EVALUATOR._process_condition(FBUser.from_dict(featbit_user(user)), clause)
        assert test(user.attributes, user) is bool(expected), (clause, condition, user)


@st.composite
def featbit_segments(draw: st.DrawFn) -> dict[str, Any]:
    rules = draw(
        st.lists(st.fixed_dictionaries({"conditions": st.lists(clauses(), max_size=2)}), max_size=2)
    )
    keys = st.lists(st.sampled_from(["u1", "10", "pro", "True"]), max_size=2, unique=True)
    return {"included": draw(keys), "excluded": draw(keys), "rules": rules}


@settings(
    max_examples=200,
    derandomize=True,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(
    segments=st.lists(featbit_segments(), min_size=1, max_size=3),
    negated=st.booleans(),
    people=st.lists(users, min_size=1, max_size=8),
)
def test_translated_segments_match_as_featbit_does(
    segments: list[dict[str, Any]], negated: bool, people: list[User]
) -> None:
    by_id = {f"s{i}": {**segment, "id": f"s{i}"} for i, segment in enumerate(segments)}
    op = "User is not in segment" if negated else "User is in segment"
    clause = {"property": op, "op": op, "value": json.dumps(list(by_id))}
    options, problems = build_options({k: featbit_segment(v) for k, v in by_id.items()},
                                      semantics="featbit")  # fmt: skip
    assert problems == []
    condition = featbit_condition(clause)
    assert condition is not None
    test = compile_audited(condition, options)
    evaluator = Evaluator(lambda key: None, by_id.get)
    for user in people:
        expected = evaluator._process_condition(FBUser.from_dict(featbit_user(user)), clause)
        assert test(user.attributes, user) is bool(expected), (by_id, user)
