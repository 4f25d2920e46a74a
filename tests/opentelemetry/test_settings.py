"""Turned on by settings like every other option: environment, flagport.toml, code."""

from __future__ import annotations

from pathlib import Path

import pytest
from otel_memory import Otel

import flagport_opentelemetry
from flagport import ConfigurationError, Flagport, User
from flagport.settings import load_settings, override_settings
from flagport_opentelemetry.observer import EvaluationTelemetry, ExposureTelemetry
from flagport_opentelemetry.options import OpenTelemetrySettings

US = User(user_id="u-42", country="US")


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, flags: Path) -> Path:
    """A project directory (the settings search stops at its pyproject.toml)."""
    (tmp_path / "pyproject.toml").write_text("[project]\nname = 'app'\n")
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("FLAGPORT_PROVIDER", "local")
    monkeypatch.setenv("FLAGPORT_LOCAL_PATH", str(flags))
    return tmp_path


def test_off_unless_a_setting_says_otherwise(project: Path) -> None:
    settings = load_settings()
    assert settings.sections["opentelemetry"] == OpenTelemetrySettings()
    assert settings.sections["opentelemetry"].record == "off"
    Flagport.from_settings().shutdown()
    assert flagport_opentelemetry.current() is None


@pytest.mark.parametrize(
    ("value", "observer", "record"),
    [
        ("all", EvaluationTelemetry, "all"),
        ("exposures", ExposureTelemetry, "exposures"),
        ("0.01", EvaluationTelemetry, 0.01),
        ("1", EvaluationTelemetry, "all"),
    ],
)
def test_the_environment_variable_turns_it_on(
    project: Path,
    monkeypatch: pytest.MonkeyPatch,
    value: str,
    observer: type,
    record: object,
) -> None:
    monkeypatch.setenv("FLAGPORT_OPENTELEMETRY", value)
    monkeypatch.setenv("FLAGPORT_OPENTELEMETRY_INCLUDE_CONTEXT_ID", "true")
    Flagport.from_settings().shutdown()
    current = flagport_opentelemetry.current()
    assert type(current) is observer
    assert current is not None
    assert current.settings.record == record
    assert current.settings.include_context_id is True


def test_the_table_in_flagport_toml_turns_it_on(project: Path, otel: Otel) -> None:
    (project / "flagport.toml").write_text(
        '[opentelemetry]\nrecord = "all"\ninclude_value = true\nset_id = "shop/prod"\n'
    )
    with Flagport.from_settings() as fp:
        current = flagport_opentelemetry.current()
        assert type(current) is EvaluationTelemetry
        assert current.settings.include_value is True
        with otel.tracer.start_as_current_span("request"):
            fp.check_gate(US, "new_checkout")
    (event,) = otel.span_events()
    assert event["feature_flag.set.id"] == "shop/prod"
    assert event["feature_flag.result.value"] is True


def test_the_environment_wins_over_the_file(project: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (project / "flagport.toml").write_text('[opentelemetry]\nrecord = "all"\n')
    monkeypatch.setenv("FLAGPORT_OPENTELEMETRY", "exposures")
    assert load_settings().sections["opentelemetry"].record == "exposures"
    with override_settings({"opentelemetry": {"record": 0.5}}):
        assert load_settings().sections["opentelemetry"].record == 0.5


def test_a_bad_value_names_its_source_and_the_fix(
    project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FLAGPORT_OPENTELEMETRY", "everything")
    with pytest.raises(ConfigurationError) as caught:
        Flagport.from_settings()
    text = str(caught.value)
    assert "environment FLAGPORT_OPENTELEMETRY" in text
    assert "'off', 'all', 'exposures' or a sample rate" in text


def test_an_unknown_option_in_the_file_is_named(project: Path) -> None:
    (project / "flagport.toml").write_text('[opentelemetry]\nrecord = "all"\ninclude_vlaue = 1\n')
    with pytest.raises(ConfigurationError) as caught:
        Flagport.from_settings()
    text = str(caught.value)
    assert "flagport.toml [opentelemetry] include_vlaue" in text
    assert "include_value" in text  # did you mean


def test_a_rate_outside_zero_and_one_is_refused(
    project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FLAGPORT_OPENTELEMETRY", "1.5")
    with pytest.raises(ConfigurationError, match="FLAGPORT_OPENTELEMETRY"):
        Flagport.from_settings()


def test_code_wins_over_settings(
    project: Path, monkeypatch: pytest.MonkeyPatch, otel: Otel
) -> None:
    from_code = otel.enable("exposures")
    monkeypatch.setenv("FLAGPORT_OPENTELEMETRY", "all")
    Flagport.from_settings().shutdown()
    assert flagport_opentelemetry.current() is from_code
    flagport_opentelemetry.disable()
    Flagport.from_settings().shutdown()
    assert type(flagport_opentelemetry.current()) is EvaluationTelemetry
