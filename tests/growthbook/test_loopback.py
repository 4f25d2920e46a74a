"""The provider against a loopback server speaking GrowthBook's wire protocol."""

from __future__ import annotations

import copy
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from polling import eventually  # tests/support

from flagport import ErrorCode, Flagport, Reason, User
from flagport.provider import ProviderStatus
from flagport_growthbook import GrowthBookProvider
from flagport_growthbook.testing import GrowthBookLoopback

USER = User(
    user_id="u-1",
    email="a@b.c",
    country="US",
    custom={"plan": "pro", "tags": ["x", "y"]},
    private={"ssn": "123-45-6789"},
    custom_ids={"company_id": "c-7"},
)


@pytest.fixture
def client_for(server: GrowthBookLoopback) -> Iterator[Callable[..., Flagport]]:
    made: list[Flagport] = []

    def make(**overrides: Any) -> Flagport:
        fp = Flagport(provider="growthbook", strict=True, **server.options(**overrides))
        made.append(fp)
        return fp

    yield make
    for fp in made:
        fp.shutdown(timeout=3)


def _client_threads(before: set[threading.Thread]) -> list[str]:
    # The loopback server's own request threads are not the client's business.
    return [
        t.name
        for t in set(threading.enumerate()) - before
        if "process_request_thread" not in t.name
    ]


def with_discount(payload: dict[str, Any], discount: float) -> dict[str, Any]:
    changed = copy.deepcopy(payload)
    changed["features"]["pricing"]["rules"][0]["force"] = {"discount": discount}
    return changed


def test_initial_load_over_http(
    server: GrowthBookLoopback, client_for: Callable[..., Flagport]
) -> None:
    fp = client_for()
    assert fp.check_gate(USER, "new_checkout") is True
    assert fp.get_config(USER, "pricing").get("discount", 0.0) == 0.1
    assert fp.provider.status is ProviderStatus.READY
    method, path, headers = next(r for r in server.requests if r[1].startswith("/api/features/"))
    assert (method, path) == ("GET", "/api/features/sdk-loopback")
    assert headers["User-Agent"] == "Gb-Python-back"  # the SDK's own fetcher


@pytest.mark.parametrize("inline", [True, False], ids=["features-event", "features-updated"])
def test_streamed_change_becomes_visible(
    server: GrowthBookLoopback,
    client_for: Callable[..., Flagport],
    payload: dict[str, Any],
    inline: bool,
) -> None:
    fp = client_for(streaming=True, refresh_interval=0)
    assert fp.get_config(USER, "pricing").get("discount", 0.0) == 0.1
    assert server.wait_for_streams(1, timeout=5)
    server.push(with_discount(payload, 0.25), inline=inline)
    assert eventually(lambda: fp.get_config(USER, "pricing").get("discount", 0.0) == 0.25)


def test_a_stream_the_sdk_gave_up_on_is_reopened(
    server: GrowthBookLoopback, client_for: Callable[..., Flagport]
) -> None:
    server.stream_status = 503  # the SDK's SSE client stops for good on an HTTP error
    fp = client_for(streaming=True, refresh_interval=0.2)
    assert fp.check_gate(USER, "new_checkout") is True
    assert eventually(lambda: sum(1 for r in server.requests if r[1].startswith("/sub/")) >= 2)
    assert server.stream_count == 0
    server.stream_status = 200
    assert server.wait_for_streams(1, timeout=5)


def test_polled_change_becomes_visible(
    server: GrowthBookLoopback, client_for: Callable[..., Flagport], payload: dict[str, Any]
) -> None:
    fp = client_for(refresh_interval=0.2)
    assert fp.get_config(USER, "pricing").get("discount", 0.0) == 0.1
    server.set_payload(with_discount(payload, 0.3))
    assert eventually(lambda: fp.get_config(USER, "pricing").get("discount", 0.0) == 0.3)
    # Unchanged payloads are answered 304 and change nothing.
    reloads = fp.provider.stats()["reloads"]
    fetches = server.feature_fetches()
    assert eventually(lambda: server.feature_fetches() >= fetches + 2)
    assert fp.provider.stats()["reloads"] == reloads


def test_custom_event_reaches_the_ingestor(
    server: GrowthBookLoopback, client_for: Callable[..., Flagport]
) -> None:
    fp = client_for()
    fp.log_event(USER, "purchase", 9.99, {"sku": "A1", "qty": 2})
    fp.flush(timeout=5)
    rows = server.wait_for_events(lambda r: r["event_name"] == "purchase")
    assert len(rows) == 1
    row = rows[0]
    assert row["properties_json"] == {"sku": "A1", "qty": 2, "value": 9.99}
    assert row["user_id"] == "u-1"
    assert row["device_id"] == "u-1"
    assert row["context_json"] == {
        "email": "a@b.c",
        "country": "US",
        "plan": "pro",
        "tags": ["x", "y"],
        "company_id": "c-7",
    }
    assert "123-45-6789" not in repr(server.batches)
    batch = server.batches[0]
    assert batch["query"] == {"client_key": ["sdk-loopback"]}
    assert batch["headers"]["Content-Type"] == "text/plain"
    assert batch["headers"]["User-Agent"].startswith("growthbook-python-sdk/")


def test_metadata_value_clash_is_kept_under_another_key(
    server: GrowthBookLoopback, client_for: Callable[..., Flagport], caplog: Any
) -> None:
    fp = client_for()
    fp.log_event(USER, "refund", 5.0, {"value": "gift card"})
    fp.flush(timeout=5)
    (row,) = server.wait_for_events(lambda r: r["event_name"] == "refund")
    assert row["properties_json"] == {"value": 5.0, "metadata_value": "gift card"}


def test_experiment_exposure_is_an_experiment_viewed_row(
    server: GrowthBookLoopback, client_for: Callable[..., Flagport]
) -> None:
    fp = client_for()
    result = fp.get_experiment(USER, "button_color")
    fp.get_experiment(USER, "button_color")  # de-duplicated by flagport
    fp.get_experiment(USER, "button_color", expose=False)
    fp.flush(timeout=5)
    rows = server.wait_for_events(lambda r: r["event_name"] == "$$experiment_viewed")
    time.sleep(0.3)
    assert len(server.wait_for_events(lambda r: r["event_name"] == "$$experiment_viewed")) == 1
    props = rows[0]["properties_json"]
    groups = ["control", "blue", "green"]
    assert props == {
        "experiment_id": "button_color",
        "variation_id": groups.index(result.group or ""),
        "variation_key": result.group,
        "in_experiment": True,
        "hash_used": True,
        "hash_attribute": "id",
        "hash_value": "u-1",
    }
    assert "ssn" not in rows[0]["context_json"]


def test_manual_gate_exposure_is_a_feature_evaluated_row(
    server: GrowthBookLoopback, client_for: Callable[..., Flagport]
) -> None:
    fp = client_for()
    fp.log_exposure(USER, "new_checkout", kind="gate")
    fp.flush(timeout=5)
    (row,) = server.wait_for_events(lambda r: r["event_name"] == "$$feature_evaluated")
    assert row["properties_json"]["feature_key"] == "new_checkout"
    assert row["properties_json"]["feature_value"] is True
    assert row["properties_json"]["rule_id"] == "fr_us"


def test_server_down_at_start_then_back(payload: dict[str, Any]) -> None:
    first = GrowthBookLoopback(payload).start()
    port = first.port
    first.stop()  # nothing listens on the port now: connections are refused
    provider = GrowthBookProvider.from_options(
        **first.options(init_timeout=0.3, retry_interval=0.1, streaming=True)
    )
    fp = Flagport(provider, strict=False)
    try:
        started = time.monotonic()
        result = fp.get_gate(USER, "new_checkout")
        assert time.monotonic() - started < 5  # bounded by init_timeout, not a hang
        assert (result.value, result.error_code) == (False, ErrorCode.PROVIDER_NOT_READY)
        assert fp.get_config(USER, "pricing", default={"discount": 0.5}).get("discount") == 0.5
        with GrowthBookLoopback(payload, port=port) as second:
            assert eventually(lambda: fp.get_gate(USER, "new_checkout").error_code is None)
            gate = fp.get_gate(USER, "new_checkout")
            assert (gate.value, gate.reason) == (True, Reason.TARGETING_MATCH)
            assert fp.provider.status is ProviderStatus.READY
            # The stream opened once the server was back: pushes arrive.
            assert second.wait_for_streams(1, timeout=5)
            second.push(with_discount(payload, 0.4))
            assert eventually(lambda: fp.get_config(USER, "pricing").get("discount") == 0.4)
    finally:
        fp.shutdown(timeout=3)


def test_unreachable_after_start_is_stale_then_ready_again(payload: dict[str, Any]) -> None:
    first = GrowthBookLoopback(payload).start()
    fp = Flagport(provider="growthbook", strict=True, **first.options(refresh_interval=0.1))
    try:
        assert fp.check_gate(USER, "new_checkout") is True
        assert fp.provider.status is ProviderStatus.READY
        first.stop()
        assert eventually(lambda: fp.provider.status is ProviderStatus.STALE)
        assert fp.check_gate(USER, "new_checkout") is True  # last definitions still served
        with GrowthBookLoopback(payload, port=first.port):
            assert eventually(lambda: fp.provider.status is ProviderStatus.READY)
    finally:
        fp.shutdown(timeout=3)


def test_shutdown_delivers_queued_events_and_is_bounded(server: GrowthBookLoopback) -> None:
    before = set(threading.enumerate())
    fp = Flagport(
        provider="growthbook",
        **server.options(streaming=True, events_flush_interval=30, events_batch_size=1000),
    )
    fp.check_gate(USER, "new_checkout")
    assert server.wait_for_streams(1, timeout=5)
    for i in range(5):
        fp.log_event(USER, "click", i)
    started = time.monotonic()
    fp.shutdown(timeout=5)
    assert time.monotonic() - started < 5
    clicks = server.wait_for_events(lambda r: r["event_name"] == "click", count=5, timeout=1)
    assert sorted(r["properties_json"]["value"] for r in clicks) == [0, 1, 2, 3, 4]
    assert eventually(lambda: not _client_threads(before)), _client_threads(before)


def test_bad_payload_from_server_keeps_last_good_definitions(
    server: GrowthBookLoopback,
    client_for: Callable[..., Flagport],
    payload: dict[str, Any],
    caplog: pytest.LogCaptureFixture,
) -> None:
    fp = client_for(streaming=True, refresh_interval=0)
    assert fp.check_gate(USER, "new_checkout") is True
    assert server.wait_for_streams(1)
    broken = copy.deepcopy(payload)
    broken["features"]["new_checkout"] = "not a feature"
    broken["features"]["pricing"]["rules"][0]["force"] = {"discount": 0.9}
    server.push(broken)
    assert eventually(lambda: "ignoring a payload" in caplog.text)
    assert "features.new_checkout" in caplog.text
    assert fp.check_gate(USER, "new_checkout") is True
    assert fp.get_config(USER, "pricing").get("discount") == 0.1
    server.push(with_discount(payload, 0.2))
    assert eventually(lambda: fp.get_config(USER, "pricing").get("discount") == 0.2)


def test_encrypted_payloads_are_decrypted(payload: dict[str, Any]) -> None:
    key = "Zvwv/+uhpFDznZ6SX28Yjg=="
    with GrowthBookLoopback(payload, encryption_key=key) as server:
        assert "encryptedFeatures" in server._body.decode()
        with Flagport(
            provider="growthbook", strict=True, **server.options(decryption_key=key)
        ) as fp:
            assert fp.check_gate(USER, "new_checkout") is True
            assert fp.get_config(USER, "pricing").get("discount") == 0.1


def test_experiment_reached_through_a_gate_is_exposed_once(payload: dict[str, Any]) -> None:
    payload["features"]["dark_mode"] = {
        "defaultValue": False,
        "rules": [
            {
                "id": "fr_dark",
                "key": "dark-mode-test",
                "variations": [False, True],
                "weights": [0.5, 0.5],
                "hashVersion": 2,
                "meta": [{"key": "off"}, {"key": "on"}],
            }
        ],
    }
    by_config = User(user_id="u-config", country="US")
    quiet = User(user_id="u-quiet", country="US")
    with GrowthBookLoopback(payload) as server:
        with Flagport(provider="growthbook", strict=True, **server.options()) as fp:
            assert fp.names().experiments >= {"dark_mode"}
            value = fp.check_gate(USER, "dark_mode")
            fp.check_gate(USER, "dark_mode")
            fp.get_config(by_config, "dark_mode")
            fp.check_gate(quiet, "dark_mode", expose=False)
            fp.get_gate(quiet, "dark_mode", expose=False)
            fp.flush(timeout=5)
        rows = server.wait_for_events(lambda r: r["event_name"] == "$$experiment_viewed")
    assert sorted(r["user_id"] for r in rows) == ["u-1", "u-config"]
    (mine,) = (r for r in rows if r["user_id"] == "u-1")
    assert mine["properties_json"]["experiment_id"] == "dark-mode-test"
    assert mine["properties_json"]["variation_key"] == ("on" if value else "off")
    assert mine["properties_json"]["variation_id"] == int(value)
    assert mine["properties_json"]["hash_value"] == "u-1"


def test_a_server_that_never_answers_does_not_hang_start_or_shutdown() -> None:
    import socket

    silent = socket.socket()
    silent.bind(("127.0.0.1", 0))
    silent.listen(16)  # connections complete in the backlog; nothing ever answers
    url = f"http://127.0.0.1:{silent.getsockname()[1]}"
    try:
        fp = Flagport(
            provider="growthbook",
            client_key="sdk-silent",
            api_host=url,
            ingestor_host=url,
            streaming=True,
            init_timeout=0.3,
            http_timeout=1.0,
        )
        started = time.monotonic()
        result = fp.get_gate(USER, "new_checkout")
        assert result.error_code is ErrorCode.PROVIDER_NOT_READY
        fp.log_event(USER, "lost", 1.0)
        fp.shutdown(timeout=2)
        assert time.monotonic() - started < 4
    finally:
        silent.close()
