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


# -- a sink that cannot be built names where it was set ----------------------------------------
@pytest.mark.parametrize(
    ("var", "value", "problem"),
    [
        ("FLAGPORT_EVENTS_SINKS", "provider,jsnol", "unknown sink 'jsnol'"),
        ("FLAGPORT_EVENTS_SINKS", "no_such_module:f", "cannot import 'no_such_module:f'"),
        ("FLAGPORT_EVENTS_JSONL_PATH", "/", "is a folder"),
    ],
)
def test_a_sink_set_in_the_environment_names_the_variable(
    monkeypatch: pytest.MonkeyPatch, var: str, value: str, problem: str
) -> None:
    monkeypatch.setenv("FLAGPORT_EVENTS_SINKS", "jsonl")
    monkeypatch.setenv(var, value)
    with pytest.raises(ConfigurationError) as info:
        Flagport(provider="passall")
    assert str(info.value).startswith(f"environment {var}"), str(info.value)
    assert problem in str(info.value)


def test_a_sink_given_in_code_says_events_and_the_key() -> None:
    with pytest.raises(ConfigurationError, match=r"^argument events\['sinks'\]: unknown sink"):
        Flagport(provider="passall", events={"sinks": ["jsnol"]})
