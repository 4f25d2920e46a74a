"""A sink listed twice in ``sinks`` is a mistake named at construction, wherever the
list was set; before, the sink was built twice and got every event twice (two lines
per event in one jsonl file)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from flagport import ConfigurationError, Event, Flagport, User, hookimpl, plugins

TWICE = "is listed twice (#1 and #2), so each event would be delivered to it twice; list it once"


def _refused(**kwargs: Any) -> str:
    with pytest.raises(ConfigurationError) as info:
        Flagport(provider="passall", **kwargs)
    return str(info.value)


def test_a_sink_listed_twice_in_code_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "events.jsonl"
    message = _refused(events={"sinks": ["jsonl", "jsonl"], "jsonl_path": path})
    assert f"argument events['sinks'] at sinks: option 'sinks': sink 'jsonl' {TWICE}" in message
    assert not path.exists()


def test_a_sink_listed_twice_in_the_environment_names_the_variable(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("FLAGPORT_EVENTS_SINKS", "provider, jsonl,provider")
    message = _refused()
    assert "environment FLAGPORT_EVENTS_SINKS" in message
    assert "sink 'provider' is listed twice (#1 and #3)" in message


def test_a_sink_listed_twice_in_a_settings_file_names_the_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = tmp_path / "flagport.toml"
    settings.write_text('[events]\nsinks = ["logging", "jsonl", "logging"]\n')
    monkeypatch.setenv("FLAGPORT_CONFIG", str(settings))
    message = _refused()
    assert f"{settings} [events] sinks" in message
    assert "sink 'logging' is listed twice (#1 and #3)" in message


def test_a_callable_listed_twice_is_refused() -> None:
    received: list[Event] = []
    # ``received.append`` is a new object each time it is read, yet the same sink.
    message = _refused(events={"sinks": [received.append, received.append]})
    assert f"sink 'list.append' {TWICE}" in message
    message = _refused(events={"sinks": ["json:dumps", "json:dumps"]})
    assert f"sink 'json:dumps' {TWICE}" in message


def test_two_callables_of_one_name_are_two_sinks() -> None:
    first: list[Event] = []
    second: list[Event] = []
    with Flagport(provider="passall", events={"sinks": [first.append, second.append]}) as fp:
        fp.log_event(User(user_id="1"), "signup")
        assert fp.flush(timeout=30)
        assert sorted(fp.stats()["events"]) == ["list.append", "list.append#2"]
    assert [e.name for e in first] == [e.name for e in second] == ["signup"]


class _MemorySinkPlugin:
    def __init__(self) -> None:
        self.built = 0

    @hookimpl
    def flagport_register_sinks(self, register: Any) -> None:
        register("memory", self._build)

    def _build(self, settings: object) -> object:
        self.built += 1
        return _Memory()


class _Memory:
    name = "memory"
    wants_models = True

    def deliver(self, batch: Any) -> None:
        return None

    def close(self) -> None:
        return None


def test_a_plugin_sink_listed_twice_is_refused_before_it_is_built() -> None:
    plugin = _MemorySinkPlugin()
    plugins.register_plugin(plugin, name="memory-sink")
    try:
        message = _refused(events={"sinks": ["memory", "provider", "memory"]})
    finally:
        plugins.unregister_plugin(plugin)
    assert "sink 'memory' is listed twice (#1 and #3)" in message
    assert plugin.built == 0
