"""The featbit provider offline: bootstrap definitions, no network, the real SDK evaluating."""

from __future__ import annotations

import json
import logging
import random
import socket
import threading
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from flagport import (
    ErrorCode,
    FlagNotFoundError,
    Flagport,
    InvalidContextError,
    ProviderNotReadyError,
    Reason,
    TypeMismatchError,
    User,
)
from flagport.testing.conformance import ProviderConformance
from flagport_featbit import FeatBitProvider, _convert
from flagport_featbit.testing import (
    condition,
    data_sync,
    in_segment,
    make_flag,
    rollout,
    rule,
    scenario_flags,
    segment,
    variation,
)


@contextmanager
def started(bootstrap: Any) -> Iterator[FeatBitProvider]:
    """An offline provider over ``bootstrap``, started, shut down on exit."""
    provider = FeatBitProvider.from_options(offline=True, bootstrap=bootstrap)
    provider.start()
    try:
        yield provider
    finally:
        provider.shutdown()


class TestConformance(ProviderConformance):
    known_gate = "new_checkout"
    known_experiment = "button_color"
    known_config = "pricing"

    def make_provider(self) -> FeatBitProvider:
        return FeatBitProvider.from_options(offline=True, bootstrap=data_sync(scenario_flags()))


def test_scenario_answers(offline: FeatBitProvider) -> None:
    us = User(user_id="u-1", country="US", custom={"plan": "pro"})
    assert offline.check_gate(us, "new_checkout") is True
    assert offline.evaluate_config(us, "pricing").value == {"discount": 0.1}
    assert offline.evaluate_config(User(user_id="u-1"), "pricing").value == {"discount": 0}
    exp = offline.evaluate_experiment(us, "button_color")
    assert exp.group in {"control", "blue", "green"}
    assert exp.value == {"color": {"control": "gray"}.get(exp.group, exp.group)}
    assert exp.in_experiment is True


def test_gate_rollout_and_group_split_are_near_even(offline: FeatBitProvider) -> None:
    users = [User(user_id=f"user-{i}", country="DE") for i in range(1500)]
    on = sum(offline.check_gate(u, "new_checkout") for u in users)
    groups = Counter(offline.evaluate_experiment(u, "button_color").group for u in users)
    assert 0.45 < on / len(users) < 0.55
    assert set(groups) == {"control", "blue", "green"}
    assert all(400 < n < 600 for n in groups.values())


def test_check_gate_agrees_with_evaluate_gate(offline: FeatBitProvider) -> None:
    for i in range(100):
        user = User(user_id=f"agree-{i}", country="FR")
        assert (
            offline.check_gate(user, "new_checkout")
            is offline.evaluate_gate(user, "new_checkout").value
        )


def test_unknown_flags_raise_flag_not_found(offline: FeatBitProvider) -> None:
    user = User(user_id="1")
    for call in (
        offline.check_gate,
        offline.evaluate_gate,
        offline.evaluate_experiment,
        offline.evaluate_config,
    ):
        with pytest.raises(FlagNotFoundError):
            call(user, "no_such_flag")


def test_kind_mismatch_raises_type_mismatch(offline: FeatBitProvider) -> None:
    user = User(user_id="1")
    with pytest.raises(TypeMismatchError):
        offline.check_gate(user, "pricing")
    with pytest.raises(TypeMismatchError):
        offline.evaluate_config(user, "new_checkout")
    # A boolean flag can still be read as an A/B test.
    result = offline.evaluate_experiment(User(user_id="1", country="US"), "new_checkout")
    assert (result.group, result.value) == ("on", {"value": True})


def test_names_sorts_flags_by_kind(offline: FeatBitProvider) -> None:
    names = offline.names()
    assert names.gates == {"new_checkout"}
    assert names.experiments == {"button_color"}
    assert names.configs == {"pricing"}


def test_evaluate_all_through_the_client(bootstrap: dict[str, Any]) -> None:
    with Flagport(provider="featbit", offline=True, bootstrap=bootstrap) as client:
        everything = client.evaluate_all(User(user_id="u", country="US", custom={"plan": "pro"}))
    assert everything.gates["new_checkout"].value is True
    assert everything.configs["pricing"].value == {"discount": 0.1}
    assert everything.experiments["button_color"].group in {"control", "blue", "green"}


def test_not_started_and_shut_down_raise_not_ready(bootstrap: dict[str, Any]) -> None:
    provider = FeatBitProvider.from_options(offline=True, bootstrap=bootstrap)
    assert provider.describe()["status"] == "NOT_READY"
    with pytest.raises(ProviderNotReadyError):
        provider.check_gate(User(user_id="1"), "new_checkout")
    provider.start()
    assert provider.describe()["status"] == "READY"
    provider.shutdown()
    provider.shutdown()
    assert provider.describe()["status"] == "SHUT_DOWN"
    with pytest.raises(ProviderNotReadyError):
        provider.evaluate_config(User(user_id="1"), "pricing")


def test_user_without_id_gives_invalid_context(offline: FeatBitProvider) -> None:
    with pytest.raises(InvalidContextError):
        offline.check_gate(User(country="US"), "new_checkout")


def test_client_serves_defaults_with_reasons(bootstrap: dict[str, Any]) -> None:
    with Flagport(provider="featbit", offline=True, bootstrap=bootstrap) as client:
        missing = client.get_config(User(user_id="1"), "nope", default={"discount": 0.3})
        assert (missing.value, missing.error_code) == ({"discount": 0.3}, ErrorCode.FLAG_NOT_FOUND)
        anonymous = client.get_gate(User(country="US"), "new_checkout")
        assert (anonymous.value, anonymous.error_code) == (False, ErrorCode.INVALID_CONTEXT)


def test_bootstrap_from_a_file(tmp_path: Path, bootstrap: dict[str, Any]) -> None:
    path = tmp_path / "featbit.json"
    path.write_text(json.dumps(bootstrap))
    with started(str(path)) as provider:
        assert provider.check_gate(User(user_id="1", country="US"), "new_checkout") is True


def test_disabled_flag_serves_its_off_variation() -> None:
    flags = scenario_flags()
    flags[0]["isEnabled"] = False
    with started(data_sync(flags)) as provider:
        result = provider.evaluate_gate(User(user_id="1", country="US"), "new_checkout")
    assert (result.value, result.reason) == (False, Reason.DISABLED)


def test_archived_flags_are_unknown() -> None:
    flags = scenario_flags()
    flags[2]["isArchived"] = True
    with started(data_sync(flags)) as provider:
        assert "pricing" not in provider.names().configs
        with pytest.raises(FlagNotFoundError):
            provider.evaluate_config(User(user_id="1"), "pricing")


# -- user fields reaching FeatBit's conditions ------------------------------------------------
def _gate(key: str, conditions: list[dict[str, Any]], **extra: Any) -> dict[str, Any]:
    return make_flag(
        key,
        "boolean",
        [variation("on", True), variation("off", False)],
        rules=[rule(f"rule-{key}", conditions, rollout(("on", 1.0)))] if conditions else [],
        fallthrough=extra.pop("fallthrough", rollout(("off", 1.0))),
        disabled_variation="off",
        **extra,
    )


@pytest.fixture
def mapping() -> Iterator[FeatBitProvider]:
    flags = [
        _gate("by_plan", [condition("plan", "Equal", "pro")]),
        _gate("by_private_tier", [condition("tier", "Equal", "gold")]),
        _gate("by_age", [condition("age", "BiggerThan", "30")]),
        _gate("by_flag", [condition("beta", "IsTrue", "")]),
        _gate("by_city", [condition("address.city", "Equal", "Oslo")]),
        _gate("by_tag", [condition("tags", "Contains", '"beta"')]),
        _gate("by_email", [condition("email", "EndsWith", "@corp.test")]),
        _gate(
            "by_company",
            [],
            fallthrough=rollout(("on", 0.5), ("off", 0.5), dispatch_key="company_id"),
        ),
        _gate("pinned", [], targets={"on": ["vip-1"]}),
    ]
    with started(data_sync(flags)) as provider:
        yield provider


@pytest.mark.parametrize(
    ("gate", "matching", "other"),
    [
        ("by_plan", {"custom": {"plan": "pro"}}, {"custom": {"plan": "free"}}),
        ("by_private_tier", {"private": {"tier": "gold"}}, {"private": {"tier": "silver"}}),
        ("by_age", {"custom": {"age": 31}}, {"custom": {"age": 30}}),
        ("by_flag", {"custom": {"beta": True}}, {"custom": {"beta": False}}),
        (
            "by_city",
            {"custom": {"address": {"city": "Oslo"}}},
            {"custom": {"address": {"city": "Rome"}}},
        ),
        ("by_tag", {"custom": {"tags": ["alpha", "beta"]}}, {"custom": {"tags": ["alpha"]}}),
        ("by_email", {"email": "a@corp.test"}, {"email": "a@else.test"}),
        ("pinned", {"user_id": "vip-1"}, {}),
    ],
)
def test_user_fields_reach_conditions(
    mapping: FeatBitProvider, gate: str, matching: dict[str, Any], other: dict[str, Any]
) -> None:
    yes = User.model_validate({"user_id": "u-1", **matching})
    no = User.model_validate({"user_id": "u-1", **other})
    assert mapping.check_gate(yes, gate) is True
    assert mapping.check_gate(no, gate) is False


def test_custom_ids_bucket_by_their_unit(mapping: FeatBitProvider) -> None:
    by_company = {
        company: {
            mapping.check_gate(
                User(user_id=f"user-{i}", custom_ids={"company_id": company}), "by_company"
            )
            for i in range(20)
        }
        for company in (f"c{n}" for n in range(30))
    }
    # Every member of a company gets the company's answer; companies differ.
    assert all(len(answers) == 1 for answers in by_company.values())
    assert {next(iter(a)) for a in by_company.values()} == {True, False}


@pytest.mark.parametrize("clash", ["key", "keyId", "KEY", "name"])
def test_a_custom_id_named_like_featbits_own_fields_is_dropped(
    mapping: FeatBitProvider,
    clash: str,
    caplog: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # FeatBit's key is the user id: a custom id "key" made the SDK see another user
    # (targeted users and rollouts by key followed the custom id).
    monkeypatch.setattr(_convert, "_warned", set())  # each name is warned once a process
    caplog.set_level(logging.WARNING, "flagport.featbit")
    vip = User(user_id="vip-1", custom_ids={clash: "someone-else"})
    assert mapping.check_gate(vip, "pinned") is True
    other = User(user_id="u-7", custom_ids={clash: "vip-1"})
    assert mapping.check_gate(other, "pinned") is False
    assert any(repr(clash) in r.getMessage() for r in caplog.records)


def test_segments_reach_conditions() -> None:
    beta = segment(
        "seg-beta",
        included=["listed-1"],
        excluded=["banned-1"],
        rules=[{"conditions": [condition("plan", "Equal", "pro")]}],
    )
    payload = data_sync([_gate("beta_only", [in_segment("seg-beta")])], [beta])
    with started(payload) as provider:
        answers = {
            name: provider.check_gate(User(user_id=name, custom={"plan": plan}), "beta_only")
            for name, plan in [
                ("listed-1", "free"),
                ("banned-1", "pro"),
                ("pro-1", "pro"),
                ("free-1", "free"),
            ]
        }
        assert answers == {"listed-1": True, "banned-1": False, "pro-1": True, "free-1": False}


# -- concurrency ---------------------------------------------------------------------------------
def test_threads_mixing_users_get_their_own_answers(offline: FeatBitProvider) -> None:
    users = [
        User(
            user_id=f"t-{i}",
            country=random.Random(i).choice(["US", "DE", "FR"]),
            custom={"plan": "pro" if i % 2 else "free"},
        )
        for i in range(60)
    ]
    expected = {
        u.user_id: (
            offline.check_gate(u, "new_checkout"),
            offline.evaluate_experiment(u, "button_color").group,
            dict(offline.evaluate_config(u, "pricing").value),
        )
        for u in users
    }
    assert len({v[1] for v in expected.values()}) == 3
    wrong: list[str] = []

    def work(seed: int) -> None:
        rng = random.Random(seed)
        for _ in range(300):
            user = rng.choice(users)
            got = (
                offline.check_gate(user, "new_checkout"),
                offline.evaluate_experiment(user, "button_color").group,
                dict(offline.evaluate_config(user, "pricing").value),
            )
            if got != expected[user.user_id]:
                wrong.append(f"{user.user_id}: {got} != {expected[user.user_id]}")

    threads = [threading.Thread(target=work, args=(seed,)) for seed in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not any(t.is_alive() for t in threads)
    assert wrong == []


def test_offline_mode_opens_no_connection(
    monkeypatch: pytest.MonkeyPatch, bootstrap: dict[str, Any]
) -> None:
    attempts: list[Any] = []

    def refuse(self: socket.socket, address: Any) -> None:
        attempts.append(address)
        raise OSError("network disabled in this test")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket.socket, "connect_ex", refuse)
    with Flagport(provider="featbit", offline=True, bootstrap=bootstrap) as client:
        user = User(user_id="u", country="US", custom={"plan": "pro"})
        assert client.check_gate(user, "new_checkout") is True
        assert client.get_experiment(user, "button_color").in_experiment is True
        client.log_event(user, "purchase", 9.99, {"sku": "A1"})
        assert client.flush(timeout=5)
        assert client.stats()["provider"]["offline_events_not_sent"] == 1
    assert attempts == []
