"""The provider offline: evaluation, reasons, names, threads, the conformance suite."""

from __future__ import annotations

import copy
import socket
import sys
import threading
from collections import Counter
from collections.abc import Iterator
from typing import Any

import pytest

from flagport import Flagport, Reason, User
from flagport.errors import FlagNotFoundError, ProviderNotReadyError
from flagport.provider import ProviderStatus
from flagport.testing.conformance import ProviderConformance
from flagport_growthbook import GrowthBookProvider


def offline(payload: dict[str, Any]) -> GrowthBookProvider:
    provider = GrowthBookProvider.from_options(offline=True, bootstrap=payload)
    assert isinstance(provider, GrowthBookProvider)
    return provider


@pytest.fixture
def provider(payload: dict[str, Any]) -> Iterator[GrowthBookProvider]:
    p = offline(payload)
    p.start()
    yield p
    p.shutdown(timeout=2)


US = User(user_id="u-us", country="US")
PRO = User(user_id="u-pro", country="DE", custom={"plan": "pro"})


class TestGrowthBookConformance(ProviderConformance):
    @pytest.fixture(autouse=True)
    def _definitions(self, payload: dict[str, Any]) -> None:
        self._payload = payload

    def make_provider(self) -> GrowthBookProvider:
        return offline(copy.deepcopy(self._payload))


def test_scenario_answers(provider: GrowthBookProvider) -> None:
    gate = provider.evaluate_gate(US, "new_checkout")
    assert (gate.value, gate.reason, gate.rule_id) == (True, Reason.TARGETING_MATCH, "fr_us")
    pricing = provider.evaluate_config(PRO, "pricing")
    assert (dict(pricing.value), pricing.reason, pricing.rule_id) == (
        {"discount": 0.1},
        Reason.TARGETING_MATCH,
        "fr_pro",
    )
    basic = provider.evaluate_config(US, "pricing")
    assert (dict(basic.value), basic.reason, basic.rule_id) == (
        {"discount": 0},
        Reason.DEFAULT,
        None,
    )


def test_rollout_and_split_are_near_their_weights(provider: GrowthBookProvider) -> None:
    users = [User(user_id=f"user-{i}", country="DE") for i in range(1500)]
    gates = [provider.evaluate_gate(u, "new_checkout") for u in users]
    on = sum(g.value for g in gates)
    assert 0.45 < on / len(users) < 0.55
    assert {g.reason for g in gates if g.value} == {Reason.SPLIT}
    assert {g.reason for g in gates if not g.value} == {Reason.DEFAULT}
    groups = Counter(provider.evaluate_experiment(u, "button_color").group for u in users)
    assert set(groups) == {"control", "blue", "green"}
    assert all(400 < n < 600 for n in groups.values())


def test_experiment_result_carries_group_value_and_membership(
    provider: GrowthBookProvider,
) -> None:
    result = provider.evaluate_experiment(US, "button_color")
    assert result.in_experiment is True
    assert result.reason is Reason.SPLIT
    assert result.rule_id == "fr_button_color"
    colors = {"control": "gray", "blue": "blue", "green": "green"}
    assert result.group is not None
    assert result.get("color") == colors[result.group]
    # The same assignment is served as the same (frozen) object.
    assert provider.evaluate_experiment(US, "button_color") is result


def test_user_outside_experiment_coverage_is_not_in_it(payload: dict[str, Any]) -> None:
    payload["features"]["button_color"]["rules"][0]["coverage"] = 0.0
    p = offline(payload)
    p.start()
    result = p.evaluate_experiment(US, "button_color")
    assert (result.group, result.in_experiment, result.reason) == (None, False, Reason.DEFAULT)
    assert dict(result.value) == {"color": "gray"}


def test_reasons_static_disabled_error_and_scalar_values() -> None:
    p = offline(
        {
            "features": {
                "banner": {"defaultValue": "hello"},
                "parent": {"defaultValue": False},
                "child": {
                    "defaultValue": True,
                    "rules": [
                        {
                            "id": "needs_parent",
                            "parentConditions": [
                                {"id": "parent", "condition": {"value": True}, "gate": True}
                            ],
                            "force": True,
                        }
                    ],
                },
                "loop_a": {
                    "defaultValue": True,
                    "rules": [{"parentConditions": [{"id": "loop_b", "condition": {}}]}],
                },
                "loop_b": {
                    "defaultValue": True,
                    "rules": [{"parentConditions": [{"id": "loop_a", "condition": {}}]}],
                },
            }
        }
    )
    p.start()
    banner = p.evaluate_config(US, "banner")
    assert (dict(banner.value), banner.reason) == ({"value": "hello"}, Reason.STATIC)
    child = p.evaluate_gate(US, "child")
    assert (child.value, child.reason) == (False, Reason.DISABLED)
    cyclic = p.evaluate_gate(US, "loop_a")
    assert cyclic.reason is Reason.ERROR
    assert cyclic.error_code is not None


def test_names_put_each_feature_under_one_kind(provider: GrowthBookProvider) -> None:
    names = provider.names()
    assert names.gates == {"new_checkout"}
    assert names.experiments == {"button_color"}
    assert names.configs == {"pricing"}


def test_unknown_flag_and_not_ready(payload: dict[str, Any]) -> None:
    p = offline(payload)
    with pytest.raises(ProviderNotReadyError):
        p.check_gate(US, "new_checkout")
    p.start()
    assert p.status is ProviderStatus.READY
    for method in (p.check_gate, p.evaluate_gate, p.evaluate_experiment, p.evaluate_config):
        with pytest.raises(FlagNotFoundError):
            method(US, "no_such_flag")
    p.shutdown()
    with pytest.raises(ProviderNotReadyError):
        p.evaluate_gate(US, "new_checkout")


def test_offline_bootstrap_never_touches_the_network(
    payload: dict[str, Any], monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    attempts: list[Any] = []

    def refuse(self: socket.socket, address: Any) -> None:
        attempts.append(address)
        raise OSError("network disabled by the test")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    with Flagport(offline(payload), strict=True) as fp:
        assert fp.check_gate(US, "new_checkout") is True
        assert fp.get_config(PRO, "pricing").get("discount", 0.0) == 0.1
        fp.log_event(US, "purchase", 9.99, {"sku": "A1"})
        fp.flush(timeout=2)
    assert attempts == []
    assert "not sent to GrowthBook" in caplog.text


def test_bootstrap_from_a_file(tmp_path: Any, payload: dict[str, Any]) -> None:
    import json

    path = tmp_path / "features.json"
    path.write_text(json.dumps(payload))
    with Flagport(provider="growthbook", offline=True, bootstrap=str(path)) as fp:
        assert fp.check_gate(US, "new_checkout") is True
        assert fp.provider.name == "growthbook"


def test_threads_mixing_users_each_get_their_own_answers(
    provider: GrowthBookProvider, payload: dict[str, Any]
) -> None:
    users = [
        User(user_id=f"t-{i}", country="US" if i % 3 == 0 else "DE", custom={"plan": "pro"})
        if i % 2
        else User(user_id=f"t-{i}", country="US" if i % 3 == 0 else "DE")
        for i in range(60)
    ]
    # Answers from a fresh single-threaded provider are the reference.
    reference = offline(copy.deepcopy(payload))
    reference.start()
    expected = {
        u.user_id: (
            reference.check_gate(u.model_copy(), "new_checkout"),
            reference.evaluate_experiment(u.model_copy(), "button_color").group,
            reference.evaluate_config(u.model_copy(), "pricing").get("discount", -1.0),
        )
        for u in users
    }
    assert len(set(expected.values())) > 4  # the users really differ
    wrong: list[str] = []
    barrier = threading.Barrier(6)

    def work(offset: int) -> None:
        barrier.wait()
        for round_ in range(20):
            for u in users[offset:] + users[:offset]:
                got = (
                    provider.check_gate(u, "new_checkout"),
                    provider.evaluate_experiment(u, "button_color").group,
                    provider.evaluate_config(u, "pricing").get("discount", -1.0),
                )
                if got != expected[u.user_id]:
                    wrong.append(f"{u.user_id} round {round_}: {got} != {expected[u.user_id]}")

    threads = [threading.Thread(target=work, args=(i * 10,)) for i in range(6)]
    # Switch threads as often as possible, so that a provider keeping one user per
    # shared SDK object would be caught answering for the wrong user.
    interval = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)
    try:
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=60)
    finally:
        sys.setswitchinterval(interval)
    assert not any(t.is_alive() for t in threads)
    assert wrong == []


def test_user_conversion_is_cached_per_user(provider: GrowthBookProvider) -> None:
    user = User(user_id="c-1", country="US")
    provider.check_gate(user, "new_checkout")
    cached = dict(user.provider_cache)
    provider.evaluate_experiment(user, "button_color")
    provider.evaluate_config(user, "pricing")
    assert len(cached) == 1
    assert all(user.provider_cache[k] is v for k, v in cached.items())
