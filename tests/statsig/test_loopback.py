"""Against a loopback server speaking Statsig's real wire protocol."""

from __future__ import annotations

from typing import Any

from flagport import (
    ErrorCode,
    Event,
    EventKind,
    FlagKind,
    Flagport,
    ProviderStatus,
    Reason,
    User,
)
from flagport_statsig import StatsigProvider
from flagport_statsig.testing import StatsigLoopbackServer, scenario_specs

US = User(
    user_id="u-us",
    email="a@b.c",
    country="US",
    custom={"plan": "pro"},
    private={"ssn": "123-45-6789"},
    custom_ids={"company_id": "7"},
)


def _pricing(discount: float) -> dict[str, Any]:
    specs = scenario_specs()
    specs["dynamic_configs"]["pricing"]["rules"][0]["returnValue"] = {"discount": discount}
    return specs


def test_initial_load_over_the_network(server: StatsigLoopbackServer) -> None:
    with Flagport(provider="statsig", strict=True, **server.provider_options()) as fp:
        result = fp.get_gate(US, "new_checkout")
        assert (result.value, result.reason, result.rule_id) == (True, Reason.TARGETING_MATCH, "us")
        assert fp.provider.stats()["init_source"] == "Network"
    gets = [r for r in server.requests if r[0] == "GET"]
    assert gets[0][1].startswith(f"/v2/download_config_specs/{server.server_secret}.json")
    assert gets[0][2].get("statsig-api-key") == server.server_secret


def test_pushed_change_becomes_visible(server: StatsigLoopbackServer) -> None:
    with Flagport(provider="statsig", strict=True, **server.provider_options()) as fp:
        assert fp.get_config(US, "pricing").get("discount", 0.0) == 0.1
        new = _pricing(0.25)
        new["feature_gates"]["beta"] = new["feature_gates"]["new_checkout"]
        server.push_specs(new)
        seen = 0.1
        for _ in range(100):
            seen = fp.get_config(US, "pricing").get("discount", 0.0)
            if seen == 0.25:
                break
            server.wait_for_events(lambda _: False, timeout=0.1)
        assert seen == 0.25
        # a gate added by the change is known without waiting for anything else
        assert fp.check_gate(US, "beta") is True
        assert "beta" in fp.names().gates


def test_events_and_exposures_arrive_with_their_content(server: StatsigLoopbackServer) -> None:
    fp = Flagport(provider="statsig", **server.provider_options())
    fp.check_gate(US, "new_checkout")
    fp.check_gate(User(user_id="quiet", country="US"), "new_checkout", expose=False)
    exp = fp.get_experiment(US, "button_color")
    fp.get_config(US, "pricing")
    fp.log_event(US, "purchase", 9.99, {"sku": "A1", "qty": 2, "tags": ["x", "y"]})
    fp.log_event(US, "signup", "pro-plan")
    fp.shutdown()

    purchase = server.custom_events("purchase")
    assert len(purchase) == 1
    event = purchase[0]
    assert event["value"] == 9.99
    assert event["metadata"] == {"sku": "A1", "qty": 2, "tags": ["x", "y"]}
    assert event["user"]["userID"] == "u-us"
    assert event["user"]["email"] == "a@b.c"
    assert event["user"]["custom"] == {"plan": "pro"}
    assert event["user"]["customIDs"] == {"company_id": "7"}
    assert "ssn" not in str(event)
    assert "privateAttributes" not in event["user"]
    assert server.custom_events("signup")[0]["value"] == "pro-plan"

    gate = server.exposures("new_checkout")
    assert [e["user"]["userID"] for e in gate] == ["u-us"]
    assert gate[0]["metadata"]["gateValue"] == "true"
    assert gate[0]["metadata"]["ruleID"] == "us"
    experiment = server.exposures("button_color")
    assert len(experiment) == 1
    assert experiment[0]["metadata"]["ruleID"] == exp.rule_id
    assert len(server.exposures("pricing")) == 1
    assert "ssn" not in str(server.events)


def test_server_down_at_start_then_back(specs: dict[str, Any]) -> None:
    server = StatsigLoopbackServer(specs).start()
    server.stop()
    fp = Flagport(provider="statsig", **server.provider_options(init_timeout_ms=300))
    try:
        first = fp.get_gate(US, "new_checkout", default=True)
        assert (first.value, first.reason, first.error_code) == (
            True,
            Reason.ERROR,
            ErrorCode.PROVIDER_NOT_READY,
        )
        assert fp.get_config(US, "pricing").error_code is ErrorCode.PROVIDER_NOT_READY
        assert fp.provider.status is ProviderStatus.NOT_READY
        fp.log_event(US, "queued_while_down", 1.0)
        server.start()
        result = first
        for _ in range(100):
            result = fp.get_gate(US, "new_checkout")
            if result.error_code is None:
                break
            server.wait_for_events(lambda _: False, timeout=0.1)
        assert (result.value, result.reason) == (True, Reason.TARGETING_MATCH)
        assert fp.get_gate(US, "missing").error_code is ErrorCode.FLAG_NOT_FOUND
        assert fp.provider.status is ProviderStatus.READY
        fp.shutdown()
        assert server.custom_events("queued_while_down")
    finally:
        fp.shutdown()
        server.stop()


def test_wrong_secret_is_not_ready(server: StatsigLoopbackServer) -> None:
    options = server.provider_options(server_secret="secret-wrong", init_timeout_ms=300)
    with Flagport(provider="statsig", **options) as fp:
        assert fp.get_gate(US, "new_checkout").error_code is ErrorCode.PROVIDER_NOT_READY


def test_shutdown_delivers_queued_events(server: StatsigLoopbackServer) -> None:
    # A flush interval far beyond the test: only shutdown can deliver these.
    fp = Flagport(provider="statsig", **server.provider_options(event_flush_interval_ms=600_000))
    for i in range(20):
        fp.log_event(User(user_id=f"u{i}"), "click", float(i))
    fp.shutdown()
    assert sorted(e["value"] for e in server.custom_events("click")) == [
        float(i) for i in range(20)
    ]


def test_manual_exposures_use_the_sdk_manual_api(server: StatsigLoopbackServer) -> None:
    provider = StatsigProvider.from_options(**server.provider_options())
    provider.start()
    quiet = User(user_id="manual", country="US")
    assert provider.check_gate(quiet, "new_checkout", expose=False) is True
    for kind, name in [
        (FlagKind.GATE, "new_checkout"),
        (FlagKind.EXPERIMENT, "button_color"),
        (FlagKind.CONFIG, "pricing"),
    ]:
        provider.log_event(
            Event(
                kind=EventKind.EXPOSURE,
                name=name,
                user=quiet,
                flag_kind=kind,
                metadata={"manual": True},
            )
        )
    # an automatic exposure is not sent twice: the SDK logged it when it evaluated
    provider.log_event(
        Event(kind=EventKind.EXPOSURE, name="pricing", user=quiet, flag_kind=FlagKind.CONFIG)
    )
    provider.shutdown()
    exposures = [e for e in server.exposures() if e["user"]["userID"] == "manual"]
    assert len(exposures) == 3
    assert all(e["metadata"].get("isManualExposure") == "true" for e in exposures)


def test_server_errors_at_start_then_recovery(server: StatsigLoopbackServer) -> None:
    server.fail_status = 503
    with Flagport(provider="statsig", **server.provider_options(init_timeout_ms=300)) as fp:
        assert fp.get_gate(US, "new_checkout").error_code is ErrorCode.PROVIDER_NOT_READY
        server.fail_status = None
        result = fp.get_gate(US, "new_checkout")
        for _ in range(100):
            result = fp.get_gate(US, "new_checkout")
            if result.error_code is None:
                break
            server.wait_for_events(lambda _: False, timeout=0.1)
        assert result.value is True
        assert result.error_code is None


def test_a_definitions_server_alone_still_serves(server: StatsigLoopbackServer) -> None:
    """``specs_url`` without ``log_event_url`` (a mirror of the definitions, events to
    Statsig) is a working set-up: its definitions are served, nothing is refused."""
    options = server.provider_options()
    del options["log_event_url"]
    with Flagport(provider="statsig", strict=True, **options) as fp:
        result = fp.get_gate(US, "new_checkout")
        assert (result.value, result.reason) == (True, Reason.TARGETING_MATCH)
