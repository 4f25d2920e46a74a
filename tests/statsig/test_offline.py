"""Offline bootstrap: the real SDK evaluating the scenario with no network at all."""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Iterator
from typing import Any

import pytest

from flagport import (
    ErrorCode,
    FlagNotFoundError,
    Flagport,
    ProviderNotReadyError,
    Reason,
    TypeMismatchError,
    User,
)
from flagport.testing.conformance import ProviderConformance
from flagport_statsig import StatsigProvider
from flagport_statsig.testing import (
    SpecsBuilder,
    StatsigLoopbackServer,
    rule,
    scenario_specs,
    user_field,
)

US = User(user_id="u-us", country="US", custom={"plan": "pro"})


class TestStatsigConformance(ProviderConformance):
    known_gate = "new_checkout"
    known_experiment = "button_color"
    known_config = "pricing"

    def make_provider(self) -> StatsigProvider:
        return StatsigProvider.from_options(offline=True, bootstrap=scenario_specs())  # type: ignore[return-value]


@pytest.fixture
def fp() -> Iterator[Flagport]:
    client = Flagport(provider="statsig", offline=True, bootstrap=scenario_specs(), strict=True)
    yield client
    client.shutdown()


def test_gate_targeting_and_rollout(fp: Flagport) -> None:
    us = fp.get_gate(US, "new_checkout")
    assert (us.value, us.reason, us.rule_id, us.provider) == (
        True,
        Reason.TARGETING_MATCH,
        "us",
        "statsig",
    )
    others = [
        fp.get_gate(User(user_id=f"de-{i}", country="DE"), "new_checkout") for i in range(400)
    ]
    assert {r.reason for r in others} == {Reason.SPLIT}
    on = sum(r.value for r in others)
    assert 150 < on < 250
    assert all(
        fp.check_gate(User(user_id=f"de-{i}", country="DE"), "new_checkout") is others[i].value
        for i in range(50)
    )


def test_experiment_groups_and_parameters(fp: Flagport) -> None:
    results = [fp.get_experiment(User(user_id=f"u{i}"), "button_color") for i in range(600)]
    counts = Counter(r.group for r in results)
    assert set(counts) == {"control", "blue", "green"}
    assert all(150 < n < 250 for n in counts.values())
    colors = {"control": "gray", "blue": "blue", "green": "green"}
    for r in results:
        assert r.in_experiment is True
        assert r.reason is Reason.SPLIT
        assert r.get("color", "") == colors[r.group or ""]
        assert r.rule_id == f"button_color.{r.group}"


def test_config_by_plan(fp: Flagport) -> None:
    pro = fp.get_config(US, "pricing")
    assert (pro.get("discount", 0.0), pro.reason, pro.rule_id) == (
        0.1,
        Reason.TARGETING_MATCH,
        "pro",
    )
    free = fp.get_config(User(user_id="f", custom={"plan": "free"}), "pricing")
    assert (free.get("discount", 1.0), free.reason) == (0.0, Reason.DEFAULT)


def test_unknown_flags_and_wrong_kinds_raise_in_the_provider() -> None:
    provider = StatsigProvider.from_options(offline=True, bootstrap=scenario_specs())
    provider.start()
    try:
        with pytest.raises(FlagNotFoundError):
            provider.check_gate(US, "nope")
        with pytest.raises(FlagNotFoundError):
            provider.evaluate_experiment(US, "nope")
        with pytest.raises(TypeMismatchError):
            provider.evaluate_config(US, "button_color")
        with pytest.raises(TypeMismatchError):
            provider.evaluate_gate(US, "pricing")
        with pytest.raises(TypeMismatchError, match=r"is a statsig config, not an experiment$"):
            provider.evaluate_experiment(US, "pricing")
    finally:
        provider.shutdown()
    with pytest.raises(ProviderNotReadyError):
        provider.check_gate(US, "new_checkout")


def test_names_and_evaluate_all(fp: Flagport) -> None:
    names = fp.names()
    assert (names.gates, names.experiments, names.configs) == (
        {"new_checkout"},
        {"button_color"},
        {"pricing"},
    )
    everything = fp.evaluate_all(US)
    assert everything.gates["new_checkout"].value is True
    assert everything.configs["pricing"].get("discount", 0.0) == 0.1
    assert everything.experiments["button_color"].group in {"control", "blue", "green"}


def test_unstarted_provider_is_not_ready() -> None:
    provider = StatsigProvider.from_options(offline=True, bootstrap=scenario_specs())
    with pytest.raises(ProviderNotReadyError):
        provider.check_gate(US, "new_checkout")


def test_gate_with_no_matching_rule_is_default() -> None:
    specs = SpecsBuilder().gate("us_only", [rule("us", [user_field("country", "any", ["US"])])])
    with Flagport(provider="statsig", offline=True, bootstrap=specs.build()) as client:
        result = client.get_gate(User(user_id="x", country="DE"), "us_only")
        assert (result.value, result.reason, result.error_code) == (False, Reason.DEFAULT, None)


def test_offline_makes_no_request_even_with_urls(specs: dict[str, Any]) -> None:
    with StatsigLoopbackServer(specs) as server:
        client = Flagport(
            provider="statsig",
            offline=True,
            bootstrap=specs,
            specs_url=server.specs_url,
            log_event_url=server.log_event_url,
        )
        assert client.check_gate(US, "new_checkout") is True
        client.log_event(US, "purchase", 9.99)
        client.flush()
        client.shutdown()
        assert server.requests == []


def test_bootstrap_online_serves_until_the_server_answers(specs: dict[str, Any]) -> None:
    # The server is down; the bootstrap answers at once instead of PROVIDER_NOT_READY.
    server = StatsigLoopbackServer(specs).start()
    server.stop()
    old = scenario_specs()
    old["dynamic_configs"]["pricing"]["rules"][0]["returnValue"] = {"discount": 0.05}
    with Flagport(provider="statsig", bootstrap=old, **server.provider_options()) as client:
        assert client.get_config(US, "pricing").get("discount", 0.0) == 0.05
        assert client.get_gate(US, "new_checkout").error_code is None


def test_not_ready_code_through_the_client() -> None:
    client = Flagport(
        provider="statsig",
        server_secret="secret-x",
        specs_url="http://127.0.0.1:9/v2/download_config_specs",
        log_event_url="http://127.0.0.1:9/v1/log_event",
        init_timeout_ms=200,
    )
    try:
        result = client.get_gate(US, "new_checkout", default=True)
        assert (result.value, result.error_code) == (True, ErrorCode.PROVIDER_NOT_READY)
    finally:
        client.shutdown(timeout=2)


def test_threads_mixing_users_get_their_own_answers(fp: Flagport) -> None:
    users = [
        User(
            user_id=f"t{i}",
            country="US" if i % 3 == 0 else "DE",
            custom={"plan": "pro" if i % 2 else "free"},
        )
        for i in range(60)
    ]
    expected = {
        u.user_id: (
            fp.check_gate(u, "new_checkout"),
            fp.get_experiment(u, "button_color").group,
            fp.get_config(u, "pricing").get("discount", -1.0),
        )
        for u in users
    }
    mismatches: list[str] = []

    def work(offset: int) -> None:
        for round_ in range(20):
            for u in users[offset::4] + users[: offset + round_ % 3]:
                got = (
                    fp.check_gate(u, "new_checkout"),
                    fp.get_experiment(u, "button_color").group,
                    fp.get_config(u, "pricing").get("discount", -1.0),
                )
                if got != expected[u.user_id]:
                    mismatches.append(f"{u.user_id}: {got} != {expected[u.user_id]}")

    threads = [threading.Thread(target=work, args=(i,)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert not mismatches
    assert {v[2] for v in expected.values()} == {0.0, 0.1}
