"""The public test helpers: the loopback server's protocol and the specs builder."""

from __future__ import annotations

import gzip
import json
import urllib.error
import urllib.request
from typing import Any

import pytest

from flagport_statsig.testing import SpecsBuilder, StatsigLoopbackServer, rule, user_field


def _get(url: str, key: str) -> tuple[int, Any]:
    request = urllib.request.Request(url, headers={"statsig-api-key": key})
    try:
        with urllib.request.urlopen(request, timeout=5) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read())


def test_specs_download_is_since_time_aware(server: StatsigLoopbackServer) -> None:
    url = f"{server.specs_url}/{server.server_secret}.json"
    status, body = _get(url + "?supports_proto=true", server.server_secret)
    assert status == 200
    assert "new_checkout" in body["feature_gates"]
    status, body = _get(f"{url}?sinceTime={body['time']}", server.server_secret)
    assert (status, body) == (200, {"has_updates": False})
    server.push_specs(SpecsBuilder().build())  # an older time is raised above the current
    status, body = _get(f"{url}?sinceTime=1700000000000", server.server_secret)
    assert body["time"] > 1_700_000_000_000
    assert body["feature_gates"] == {}


def test_wrong_key_wrong_path_and_failure_mode(server: StatsigLoopbackServer) -> None:
    url = f"{server.specs_url}/{server.server_secret}.json"
    assert _get(url, "secret-other")[0] == 401
    assert _get(f"{server.specs_url}/secret-other.json", server.server_secret)[0] == 404
    server.fail_status = 500
    assert _get(url, server.server_secret)[0] == 500


def test_log_event_accepts_gzip_batches(server: StatsigLoopbackServer) -> None:
    events = [{"eventName": "purchase", "value": 1.0}, {"eventName": "statsig::diagnostics"}]
    request = urllib.request.Request(
        server.log_event_url,
        data=gzip.compress(json.dumps({"events": events}).encode()),
        headers={
            "statsig-api-key": server.server_secret,
            "Content-Encoding": "gzip",
            "Content-Type": "application/json",
        },
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=5) as response:
        assert response.status == 202
        assert json.loads(response.read()) == {"success": True}
    assert server.custom_events() == [events[0]]
    assert len(server.events) == 2


def test_stop_and_start_keep_the_port(specs: dict[str, Any]) -> None:
    server = StatsigLoopbackServer(specs).start()
    port = server.port
    server.stop()
    with pytest.raises(urllib.error.URLError):
        _get(f"{server.specs_url}/{server.server_secret}.json", server.server_secret)
    server.start()
    try:
        assert server.port == port
        assert (
            _get(f"{server.specs_url}/{server.server_secret}.json", server.server_secret)[0] == 200
        )
    finally:
        server.stop()


def test_builder_hoists_conditions_and_weights_experiments() -> None:
    country = user_field("country", "any", ["US"])
    specs = (
        SpecsBuilder()
        .gate("a", [rule("us", [country])])
        .gate("b", [rule("us", [country])])
        .experiment("e", [("x", {"v": 1}), ("y", {"v": 2})], weights=[1, 3])
        .build()
    )
    assert (
        specs["feature_gates"]["a"]["rules"][0]["conditions"]
        == specs["feature_gates"]["b"]["rules"][0]["conditions"]
    )
    bounds = [
        specs["condition_map"][r["conditions"][0]]["targetValue"]
        for r in specs["dynamic_configs"]["e"]["rules"]
    ]
    assert bounds == [250, 1000]
    with pytest.raises(ValueError, match="one weight per group"):
        SpecsBuilder().experiment("e", [("x", {})], weights=[1, 2])
