"""``sinks`` given as one string (``FLAGPORT_EVENTS_SINKS=provider,jsonl``): a string
naming no sink is a mistake (a variable left empty by a template), not "deliver events
nowhere"; no sinks at all is written ``[]``."""

from __future__ import annotations

import pytest

from flagport import ConfigurationError, Flagport


@pytest.mark.parametrize("value", ["", " ", ",", " , "])
def test_a_string_naming_no_sink_is_refused(monkeypatch: pytest.MonkeyPatch, value: str) -> None:
    monkeypatch.setenv("FLAGPORT_EVENTS_SINKS", value)
    with pytest.raises(ConfigurationError) as info:
        Flagport(provider="passall")
    message = str(info.value)
    assert "environment FLAGPORT_EVENTS_SINKS" in message
    assert "names no sink" in message
    assert "[]" in message  # how to say "none" on purpose


def test_an_empty_list_still_means_no_sinks(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FLAGPORT_EVENTS_SINKS", "[]")
    with Flagport(provider="passall") as fp:
        assert fp.events.workers == []


def test_a_string_naming_no_sink_as_an_argument_is_refused() -> None:
    with pytest.raises(ConfigurationError, match="names no sink"):
        Flagport(provider="passall", events={"sinks": ""})
