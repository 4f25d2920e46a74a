"""``$growthbook`` conditions and ``$growthbook.<attribute>`` units see the user as the
growthbook provider sends it: custom ids, then ``id`` = the user id, then attributes."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from flagport import User
from flagport.errors import ConfigurationError
from flagport.providers.local import LocalProvider
from flagport.providers.local.growthbook_view import growthbook_attributes
from flagport_growthbook._convert import to_user_context

texts = st.sampled_from(["a", "b", "", "0"])
users = st.builds(
    User,
    user_id=st.none() | texts,
    custom=st.dictionaries(st.sampled_from(["id", "company_id", "plan"]), st.none() | texts),
    custom_ids=st.dictionaries(st.sampled_from(["id", "company_id"]), texts),
)


@given(users)
def test_the_view_is_what_the_growthbook_provider_sends(user: User) -> None:
    assert growthbook_attributes(user) == to_user_context(user).attributes


def _provider(rule: dict[str, Any]) -> LocalProvider:
    flags = {"hash": "growthbook", "experiments": {"e": {"default": "no", "rules": [rule]}}}
    provider = LocalProvider(LocalProvider.Options(flags=flags, watch=False))
    provider.start()
    return provider


@pytest.mark.parametrize(
    ("user", "matches"),
    [
        (User(user_id="u1"), True),  # id is the user id
        (User(user_id="u2", custom={"id": "u1"}), True),  # a custom id attribute wins
        (User(user_id="u1", custom={"id": "zz"}), False),
        (User(custom_ids={"id": "u1"}), True),  # the custom id comes last
        (User(user_id="u2", custom_ids={"id": "u1"}), False),
    ],
)
def test_a_condition_on_id_follows_the_providers_precedence(user: User, matches: bool) -> None:
    provider = _provider({"id": "vip", "when": {"$growthbook": {"id": "u1"}}, "value": "yes"})
    assert (provider.evaluate_experiment(user, "e").value == "yes") is matches


def test_a_unit_hashes_the_attribute_the_provider_sends() -> None:
    split = {"variants": [{"group": "a", "range": [0, 0.5]}, {"group": "b", "range": [0.5, 1]}]}
    provider = _provider({"id": "s", "unit": "$growthbook.id", "split": split})
    groups = {
        name: provider.evaluate_experiment(user, "e").group
        for name, user in {
            "user_id": User(user_id="k1"),
            "custom": User(user_id="other", custom={"id": "k1"}),
            "custom_id": User(custom_ids={"id": "k1"}),
            "shadowed": User(user_id="k1", custom_ids={"id": "k2"}),
        }.items()
    }
    assert groups["user_id"] is not None
    assert set(groups.values()) == {groups["user_id"]}
    assert provider.evaluate_experiment(User(custom={"x": 1}), "e").group is None


def test_growthbook_is_refused_inside_elemmatch() -> None:
    inner = {"x": 1, "$growthbook": {"id": "a"}}
    rule = {"when": {"tags": {"$elemMatch": inner}}, "value": "yes"}
    with pytest.raises(ConfigurationError, match=r"\$growthbook.*\$elemMatch"):
        _provider(rule)
