"""The process-wide client (``flagport._global``): ``setup()`` retires the client it
replaces, and the module-level shortcuts without any settings serve defaults."""

from __future__ import annotations

import json
import logging
import threading
import time
from pathlib import Path

import pytest
from slow_to_stop import SlowToStop  # tests/support

import flagport
from flagport import ConfigurationError, ErrorCode, Flagport, Reason, User, _global

USER = User(user_id="42")
WAIT = 10.0  # seconds: a bound on waiting for another thread, never an expectation
EVENTS = 200


def flagport_warnings(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [
        r.getMessage()
        for r in caplog.records
        if r.name == "flagport" and r.levelno >= logging.WARNING
    ]


# -- setup() twice ------------------------------------------------------------------------------
def test_a_second_setup_shuts_the_first_client_down(no_client: None, tmp_path: Path) -> None:
    flags = tmp_path / "flags.yaml"
    flags.write_text("gates:\n  new_checkout:\n    rules: [{id: all, pass_percentage: 100}]\n")
    events = tmp_path / "events.jsonl"
    before = set(threading.enumerate())
    first = flagport.setup(
        provider="local",
        path=str(flags),
        watch=True,
        reload_interval=0.05,
        # Nothing is delivered before shutdown: the batch is larger than the events.
        events={
            "sinks": ["jsonl"],
            "jsonl_path": str(events),
            "batch_size": 10_000,
            "flush_interval": 3600,
        },
    )
    assert (
        flagport.check_gate(USER, "new_checkout") is True
    )  # the provider starts: its watcher runs
    for i in range(EVENTS):
        flagport.log_event(USER, "tick", i)
    started = set(threading.enumerate()) - before
    assert any(t.name.startswith("flagport-local-watch") for t in started)
    assert any(t.name.startswith("flagport-events-") for t in started)

    second = flagport.setup(provider="passall")

    assert flagport.get_client() is second
    assert first.closed
    assert [t.name for t in started if t.is_alive()] == []
    lines = events.read_text().splitlines()
    assert [json.loads(line)["value"] for line in lines] == [float(i) for i in range(EVENTS)]


def test_setup_leaves_a_client_installed_with_set_client_to_its_owner(no_client: None) -> None:
    mine = Flagport(provider="passall")
    flagport.set_client(mine)
    installed = flagport.setup(provider="passall", gate_value=False)
    assert flagport.check_gate(USER, "g") is False
    assert not mine.closed  # its owner decides when it ends
    assert mine.check_gate(USER, "g") is True
    mine.shutdown()
    flagport.setup(provider="passall")
    assert installed.closed  # made by setup(): retired by the next one


def test_setup_waits_for_a_slow_provider_only_within_its_bound(
    no_client: None, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setattr(_global, "_REPLACED_SHUTDOWN_TIMEOUT", 0.2)
    release = threading.Event()
    provider = SlowToStop(release)
    flagport.setup(provider)
    assert flagport.check_gate(USER, "g") is True  # started
    began = time.monotonic()
    flagport.setup(provider="passall")
    assert time.monotonic() - began < WAIT / 2  # not the provider's WAIT seconds
    assert any("did not shut down within 0.2s" in m for m in flagport_warnings(caplog))
    release.set()


def test_setup_never_raises_what_the_replaced_client_s_shutdown_raised(
    no_client: None, caplog: pytest.LogCaptureFixture
) -> None:
    release = threading.Event()
    release.set()
    flagport.setup(SlowToStop(release, fail=True), strict=True)
    assert flagport.check_gate(USER, "g") is True
    installed = flagport.setup(provider="passall")  # strict re-raises the failure: caught
    assert flagport.get_client() is installed
    assert any("the vendor refused to stop" in m for m in flagport_warnings(caplog))


# -- the shortcuts without any settings ----------------------------------------------------------
def test_without_settings_the_shortcuts_serve_defaults_and_warn_once(
    no_settings: Path, caplog: pytest.LogCaptureFixture
) -> None:
    assert flagport.check_gate(USER, "new_checkout") is False
    assert flagport.check_gate(USER, "new_checkout", default=True) is True
    gate = flagport.get_gate(USER, "other_gate")
    assert (gate.value, gate.reason, gate.error_code) == (
        False,
        Reason.ERROR,
        ErrorCode.PROVIDER_NOT_READY,
    )
    assert "flagport.setup(" in str(gate.error_message)
    experiment = flagport.get_experiment(USER, "button_color", default={"color": "gray"})
    assert (experiment.value, experiment.error_code) == (
        {"color": "gray"},
        ErrorCode.PROVIDER_NOT_READY,
    )
    config = flagport.get_config(USER, "pricing")
    assert (config.value, config.error_code) == ({}, ErrorCode.PROVIDER_NOT_READY)
    flagport.log_event(USER, "purchase", 9.99)  # dropped, not raised
    with flagport.scope(USER):
        assert flagport.check_gate("new_checkout") is False
    assert flagport.evaluate_all(USER).gates == {}
    stats = flagport.stats()
    assert stats["provider"]["name"] == "unconfigured"
    assert stats["provider"]["status"] == "NOT_READY"
    assert stats["evaluations"]["errors"] == 6
    assert flagport.flush() is True

    warned = flagport_warnings(caplog)
    assert len(warned) == 1, warned  # one warning, not one per call or per flag
    for fix in ("flagport.setup(", "flagport.toml", "FLAGPORT_PROVIDER", "no settings file"):
        assert fix in warned[0]
    # The failure is remembered: no client is built per call.
    assert flagport.get_client() is flagport.get_client()


def test_without_settings_a_later_setup_takes_effect(no_settings: Path) -> None:
    assert flagport.get_gate(USER, "g").error_code is ErrorCode.PROVIDER_NOT_READY
    unconfigured = flagport.get_client()
    flagport.setup(provider="passall")
    assert flagport.check_gate(USER, "g") is True
    assert unconfigured.closed


def test_without_settings_set_client_none_tries_the_settings_again(
    no_settings: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert flagport.check_gate(USER, "g") is False
    monkeypatch.setenv("FLAGPORT_PROVIDER", "passall")
    assert flagport.check_gate(USER, "g") is False  # remembered...
    flagport.set_client(None)
    assert flagport.check_gate(USER, "g") is True  # ...until the client is forgotten


def test_invalid_settings_serve_defaults_and_the_warning_names_the_problem(
    no_settings: Path, caplog: pytest.LogCaptureFixture
) -> None:
    (no_settings / "flagport.toml").write_text('provider = "passall"\nstrik = true\n')
    assert flagport.check_gate(USER, "g", default=True) is True
    [warned] = flagport_warnings(caplog)
    assert "strik" in warned
    assert "flagport.toml" in warned


@pytest.mark.parametrize("where", ["environment", "file"])
def test_without_a_provider_strict_settings_still_raise(
    no_settings: Path, monkeypatch: pytest.MonkeyPatch, where: str
) -> None:
    if where == "environment":
        monkeypatch.setenv("FLAGPORT_STRICT", "1")
    else:
        (no_settings / "flagport.toml").write_text("strict = true\n")
    with pytest.raises(ConfigurationError, match="FLAGPORT_LOCAL_PATH"):
        flagport.check_gate(USER, "g")
    with pytest.raises(ConfigurationError):
        flagport.log_event(USER, "purchase")
    with pytest.raises(ConfigurationError):
        flagport.stats()


# -- the events of a client that cannot be built -------------------------------------------------
def test_without_settings_dropped_events_are_counted_and_the_warning_says_where(
    no_settings: Path, caplog: pytest.LogCaptureFixture
) -> None:
    for _ in range(3):
        flagport.log_event(USER, "purchase", 9.99)
    assert flagport.flush(WAIT) is True
    assert flagport.stats()["provider"]["events_dropped"] == 3
    [warned] = flagport_warnings(caplog)
    assert "events are dropped (counted in flagport.stats()['provider']['events_dropped'])" in (
        warned
    )


def test_without_a_provider_valid_events_settings_still_reach_their_sinks(
    no_settings: Path, caplog: pytest.LogCaptureFixture
) -> None:
    (no_settings / "flagport.toml").write_text(
        '[events]\nsinks = ["provider", "jsonl"]\njsonl_path = "events/out.jsonl"\n'
    )
    assert flagport.check_gate(USER, "g") is False  # no provider: defaults
    flagport.log_event(USER, "purchase", 9.99, {"sku": "A1"})
    assert flagport.flush(WAIT) is True
    lines = (no_settings / "events" / "out.jsonl").read_text().splitlines()
    assert [(e["name"], e["value"], e["metadata"]) for e in map(json.loads, lines)] == [
        ("purchase", 9.99, {"sku": "A1"})
    ]
    stats = flagport.stats()
    assert stats["events"]["jsonl"]["delivered"] == 1
    assert stats["provider"]["events_dropped"] == 1  # the provider sink's copy
    [warned] = flagport_warnings(caplog)
    assert "events go to the [events] sinks jsonl; those for the provider sink are dropped" in (
        warned
    )


def test_without_a_provider_invalid_events_settings_are_named_and_events_counted(
    no_settings: Path, caplog: pytest.LogCaptureFixture
) -> None:
    (no_settings / "flagport.toml").write_text('[events]\nsinks = ["jsonl"]\nmax_queue = 0\n')
    flagport.log_event(USER, "purchase")
    assert flagport.flush(WAIT) is True
    assert flagport.stats()["provider"]["events_dropped"] == 1
    [warned] = flagport_warnings(caplog)
    assert "the [events] settings are invalid" in warned
    assert "max_queue" in warned
