"""The featbit provider over the network: the real SDK against a loopback FeatBit server."""

from __future__ import annotations

import socket
import threading
from typing import Any

import pytest

from flagport import (
    ErrorCode,
    FlagNotFoundError,
    Flagport,
    ProviderNotReadyError,
    ProviderStatus,
    User,
)
from flagport_featbit import FeatBitProvider
from flagport_featbit.testing import FeatBitLoopback, make_flag, rollout, variation

pytestmark = pytest.mark.timeout(60)

US_PRO = User(
    user_id="user-us-1",
    country="US",
    custom={"plan": "pro", "name": "Ada"},
    private={"ssn": "123-45-6789", "home": {"city": "Oslo"}},
)


def _props(record: dict[str, Any]) -> dict[str, str]:
    return {p["name"]: p["value"] for p in record["user"]["customizedProperties"]}


def test_initial_load_over_the_websocket(server: FeatBitLoopback, online: Flagport) -> None:
    assert online.check_gate(US_PRO, "new_checkout") is True
    assert online.get_config(US_PRO, "pricing").value == {"discount": 0.1}
    assert online.provider.status is ProviderStatus.READY
    assert server.received[0] == {"messageType": "data-sync", "data": {"timestamp": 0}}
    path, headers = next((p, h) for p, h in server.requests if p.startswith("/streaming"))
    assert "type=server" in path
    assert "token=" in path
    assert headers["Authorization"] == server.env_secret
    assert headers["User-Agent"] == "fb-python-server-sdk"


def test_pushed_changes_become_visible(server: FeatBitLoopback, online: Flagport) -> None:
    assert online.get_config(US_PRO, "pricing").value == {"discount": 0.1}
    server.update_flag(
        "pricing",
        variations=[variation("pro", {"discount": 0.25}), variation("standard", {"discount": 0})],
    )
    assert server.wait_for(lambda: online.get_config(US_PRO, "pricing").get("discount") == 0.25)

    server.set_flag(
        make_flag(
            "dark_mode",
            "boolean",
            [variation("on", True), variation("off", False)],
            fallthrough=rollout(("on", 1.0)),
        )
    )
    assert server.wait_for(lambda: "dark_mode" in online.names().gates)
    assert online.check_gate(US_PRO, "dark_mode") is True

    server.archive_flag("new_checkout")
    assert server.wait_for(lambda: "new_checkout" not in online.names().gates)
    with pytest.raises(FlagNotFoundError):
        online.check_gate(US_PRO, "new_checkout")


def test_custom_events_arrive_with_value_metadata_and_user(
    server: FeatBitLoopback, online: Flagport
) -> None:
    online.log_event(US_PRO, "purchase", 19.99, {"sku": "A1", "qty": 2})
    online.log_event(User(user_id="user-2"), "signup")
    assert online.flush(timeout=10)
    purchase = {
        m["eventName"]: m for m in server.metrics() if m["eventName"].startswith("purchase")
    }
    assert purchase["purchase"]["numericValue"] == 19.99
    assert purchase["purchase.qty"]["numericValue"] == 2.0
    assert purchase["purchase.sku:A1"]["numericValue"] == 1.0
    assert {m["type"] for m in purchase.values()} == {"CustomEvent"}
    record = purchase["purchase"]
    assert record["user"]["keyId"] == "user-us-1"
    assert record["user"]["name"] == "Ada"
    assert _props(record) == {"country": "US", "plan": "pro"}
    [signup] = server.metrics("signup")
    assert (signup["numericValue"], signup["user"]["keyId"]) == (1.0, "user-2")


def test_private_attributes_reach_conditions_but_not_the_server(
    server: FeatBitLoopback, online: Flagport
) -> None:
    server.set_flag(
        make_flag(
            "by_city",
            "boolean",
            [variation("on", True), variation("off", False)],
            rules=[
                {
                    "id": "oslo",
                    "name": "oslo",
                    "conditions": [{"property": "home.city", "op": "Equal", "value": "Oslo"}],
                    **rollout(("on", 1.0)),
                }
            ],
            fallthrough=rollout(("off", 1.0)),
        )
    )
    assert server.wait_for(lambda: "by_city" in online.names().gates)
    assert online.check_gate(US_PRO, "by_city") is True
    online.log_event(US_PRO, "purchase", 1)
    assert online.flush(timeout=10)
    assert server.evaluations("by_city")
    for item in server.insights:
        text = repr(item)
        assert "123-45-6789" not in text
        assert "ssn" not in text
        assert "Oslo" not in text
        assert "flagport.private" not in text
    assert online.provider.stats()["users_redacted"] >= 2


def test_exposures_are_featbit_insights(server: FeatBitLoopback, online: Flagport) -> None:
    result = online.get_experiment(US_PRO, "button_color")
    online.get_experiment(User(user_id="quiet-1"), "button_color", expose=False)
    online.check_gate(User(user_id="quiet-1", country="US"), "new_checkout", expose=False)
    assert online.flush(timeout=10)
    [exposure] = server.evaluations("button_color")
    assert exposure["user"]["keyId"] == "user-us-1"
    assert exposure["variation"]["reason"] == "fall through all rules"
    groups = {"v-control": "control", "v-blue": "blue", "v-green": "green"}
    assert groups[exposure["variation"]["id"]] == result.group
    assert not [e for e in server.evaluations() if e["user"]["keyId"] == "quiet-1"]
    assert online.provider.stats()["exposures_suppressed"] == 2


def test_manual_exposure_is_sent(server: FeatBitLoopback, online: Flagport) -> None:
    user = User(user_id="manual-1")
    online.get_experiment(user, "button_color", expose=False)
    online.log_exposure(user, "button_color")
    assert online.flush(timeout=10)
    assert [e["user"]["keyId"] for e in server.evaluations("button_color")] == ["manual-1"]


def test_shutdown_delivers_queued_events(server: FeatBitLoopback) -> None:
    client = Flagport(
        provider="featbit",
        **server.provider_options(events_flush_interval=3.0, connect_timeout=1.0),
    )
    for i in range(5):
        client.log_event(User(user_id=f"late-{i}"), "late_event", i)
    client.shutdown(timeout=5)
    assert sorted(m["user"]["keyId"] for m in server.metrics("late_event")) == [
        f"late-{i}" for i in range(5)
    ]
    assert client.provider_name == "featbit"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def test_server_down_at_start_then_back() -> None:
    port, event_port = _free_port(), _free_port()
    server = FeatBitLoopback(port=port, event_port=event_port)
    options = {
        **server.provider_options(start_wait=0.3, connect_timeout=1.0),
        "streaming_url": f"ws://127.0.0.1:{port}",
        "event_url": f"http://127.0.0.1:{event_port}",
    }
    client = Flagport(provider="featbit", **options)
    try:
        before = client.get_gate(US_PRO, "new_checkout", default=True)
        assert (before.value, before.error_code) == (True, ErrorCode.PROVIDER_NOT_READY)
        assert client.provider.status is ProviderStatus.NOT_READY
        server.start()
        assert server.wait_for(lambda: client.provider.status is ProviderStatus.READY, timeout=20)
        after = client.get_gate(US_PRO, "new_checkout", default=False)
        assert (after.value, after.error_code) == (True, None)
    finally:
        client.shutdown(timeout=3)
        server.stop()


def test_reconnects_and_catches_up_after_an_outage(
    server: FeatBitLoopback, online: Flagport
) -> None:
    assert online.get_config(US_PRO, "pricing").value == {"discount": 0.1}
    server.stop()
    assert server.wait_for(lambda: online.provider.status is ProviderStatus.STALE)
    # Last known definitions keep serving while FeatBit is away.
    assert online.get_config(US_PRO, "pricing").value == {"discount": 0.1}
    server.update_flag(
        "pricing",
        variations=[variation("pro", {"discount": 0.3}), variation("standard", {"discount": 0})],
    )
    server.start()
    assert server.wait_for(
        lambda: online.get_config(US_PRO, "pricing").get("discount") == 0.3, timeout=20
    )
    assert online.provider.status is ProviderStatus.READY
    # On reconnect the SDK asked only for what changed since its version.
    assert server.received[-1]["data"]["timestamp"] > 0


def test_wrong_secret_never_becomes_ready(server: FeatBitLoopback) -> None:
    provider = FeatBitProvider.from_options(
        **server.provider_options(env_secret="wrong", start_wait=0.5)
    )
    provider.start()
    try:
        assert provider.status is ProviderStatus.NOT_READY
        with pytest.raises(ProviderNotReadyError, match="not delivered flag definitions"):
            provider.check_gate(US_PRO, "new_checkout")
        assert server.wait_for(lambda: len(server.requests) >= 2)
        # The server refused it (code 4003) before any data-sync took place.
        assert server.received == []
    finally:
        provider.shutdown(timeout=3)


def test_evaluations_stay_consistent_while_definitions_change(
    server: FeatBitLoopback, online: Flagport
) -> None:
    discounts = [round(0.1 + i / 100, 2) for i in range(10)]
    assert online.get_config(US_PRO, "pricing").get("discount") == discounts[0]
    seen: set[float] = set()
    errors: list[BaseException] = []
    stop = threading.Event()

    def work() -> None:
        while not stop.is_set():
            try:
                result = online.get_config(US_PRO, "pricing")
                seen.add(result.get("discount", -1.0))
                online.check_gate(US_PRO, "new_checkout")
            except BaseException as exc:  # strict client: any failure is a bug
                errors.append(exc)
                return

    threads = [threading.Thread(target=work) for _ in range(4)]
    for thread in threads:
        thread.start()
    try:
        for discount in discounts[1:]:
            server.update_flag(
                "pricing",
                variations=[
                    variation("pro", {"discount": discount}),
                    variation("standard", {"discount": 0}),
                ],
            )
        assert server.wait_for(lambda: online.get_config(US_PRO, "pricing").get("discount") == 0.19)
    finally:
        stop.set()
        for thread in threads:
            thread.join(timeout=10)
    assert errors == []
    assert seen <= set(discounts)
    assert online.provider.stats()["definition_updates"] >= 2


def test_rejected_insights_are_counted_not_waited_for(
    server: FeatBitLoopback, online: Flagport
) -> None:
    assert online.check_gate(US_PRO, "new_checkout") is True
    server.available = False
    online.log_event(US_PRO, "lost_event", 1)
    online.flush(timeout=10)
    stats = online.provider.stats()
    assert stats["events_failed"] >= 1
    assert server.metrics("lost_event") == []
    server.available = True
    online.log_event(US_PRO, "kept_event", 2)
    online.flush(timeout=10)
    assert [m["numericValue"] for m in server.metrics("kept_event")] == [2.0]
