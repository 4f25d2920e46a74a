"""``$featbit`` conditions and ``$featbit.<property>`` units see the user as the featbit
provider sends it: ``name`` is the user id without a non-blank custom name, custom ids
win over attributes, nested values are found under dot paths, and ``key``/``keyid``/
``name`` are FeatBit's own fields in any case."""

from __future__ import annotations

from typing import Any

import pytest
from fbclient.common_types import FBUser
from hypothesis import given
from hypothesis import strategies as st

from flagport import User
from flagport.errors import ConfigurationError
from flagport.providers.local import LocalProvider
from flagport.providers.local.featbit_view import featbit_properties, featbit_property
from flagport_featbit._convert import featbit_user

texts = st.sampled_from(["a", "b", "", " ", "0", "Ünï"])
values = st.none() | texts | st.integers(-2, 2) | st.booleans() | st.just({"city": "P"})
names = st.sampled_from(["name", "Name", "plan", "company", "address", "key", "KeyId"])
users = st.builds(
    User,
    user_id=st.sampled_from(["u1", "0", "用户"]),
    custom=st.dictionaries(names, values),
    private=st.dictionaries(st.sampled_from(["plan", "secret"]), values),
    custom_ids=st.dictionaries(st.sampled_from(["company", "plan", "Name", "keyid"]), texts),
)


@given(users)
def test_the_view_is_what_the_featbit_provider_sends(user: User) -> None:
    assert featbit_properties(user) == featbit_user(User(**user.model_dump()))


@given(users, st.sampled_from(["name", "NAME", "key", "keyId", "KEYID", "plan", "company"]))
def test_a_property_is_found_as_featbits_sdk_finds_it(user: User, name: str) -> None:
    try:
        sdk = FBUser.from_dict(dict(featbit_user(user)))
    except ValueError:  # the SDK refuses a blank name (a blank custom id "name")
        return
    assert featbit_property(featbit_properties(user), name) == sdk.get(name)


def _provider(rule: dict[str, Any]) -> LocalProvider:
    flags = {
        "hash": "featbit",
        "semantics": "featbit",
        "experiments": {"e": {"default": "no", "rules": [rule]}},
    }
    provider = LocalProvider(LocalProvider.Options(flags=flags, watch=False))
    provider.start()
    return provider


@pytest.mark.parametrize(
    ("user", "matches"),
    [
        (User(user_id="u1"), True),  # no custom name: the user id
        (User(user_id="u1", custom={"name": "  "}), True),  # a blank name too
        (User(user_id="u2", custom={"name": "u1"}), True),
        (User(user_id="u1", custom={"name": "ann"}), False),
    ],
)
def test_a_condition_on_name_follows_the_provider(user: User, matches: bool) -> None:
    provider = _provider({"id": "r", "when": {"$featbit": {"NAME": "u1"}}, "value": "yes"})
    assert (provider.evaluate_experiment(user, "e").value == "yes") is matches


def test_custom_ids_and_nested_values_follow_the_provider() -> None:
    when = {"$featbit": {"company": "c9", "address.city": "Paris"}}
    provider = _provider({"id": "r", "when": when, "value": "yes"})
    custom = {"company": "acme", "address": {"city": "Paris"}}
    hit = User(user_id="u1", custom=custom, custom_ids={"company": "c9"})
    miss = User(user_id="u1", custom={**custom, "company": "c9"}, custom_ids={"company": "x"})
    assert provider.evaluate_experiment(hit, "e").value == "yes"
    assert provider.evaluate_experiment(miss, "e").value == "no"


def test_a_unit_hashes_the_property_the_provider_sends() -> None:
    split = {"variants": [{"group": "a", "range": [0, 0.5]}, {"group": "b", "range": [0.5, 1]}]}
    provider = _provider({"id": "s", "unit": "$featbit.name", "split": split})
    groups = {
        provider.evaluate_experiment(user, "e").group
        for user in (User(user_id="k1"), User(user_id="x", custom={"name": "k1"}))
    }
    assert len(groups) == 1
    assert None not in groups


def test_featbit_is_refused_inside_elemmatch() -> None:
    inner = {"x": 1, "$featbit": {"name": "a"}}
    rule = {"when": {"tags": {"$elemMatch": inner}}, "value": "yes"}
    with pytest.raises(ConfigurationError, match=r"\$featbit.*\$elemMatch"):
        _provider(rule)
