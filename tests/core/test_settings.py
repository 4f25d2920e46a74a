from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import Field, SecretStr

from flagport import ConfigurationError, Flagport, ProviderOptions
from flagport.settings import load_settings, validate_options


def write(path: Path, text: str) -> Path:
    path.write_text(text)
    return path


def test_precedence_pyproject_then_file_then_env_then_arguments(tmp_path: Path) -> None:
    write(
        tmp_path / "pyproject.toml",
        '[tool.flagport]\nprovider = "passall"\n[tool.flagport.passall]\na = "pyproject"\n'
        'b = "pyproject"\nc = "pyproject"\nd = "pyproject"\n',
    )
    write(tmp_path / "flagport.toml", '[passall]\nb = "file"\nc = "file"\nd = "file"\n')
    env = {"FLAGPORT_PASSALL_C": "env", "FLAGPORT_PASSALL_D": "env"}
    settings = load_settings(options={"d": "argument"}, cwd=tmp_path, environ=env)
    assert settings.provider == "passall"
    assert settings.options == {"a": "pyproject", "b": "file", "c": "env", "d": "argument"}
    assert settings.sources["b"].endswith("flagport.toml [passall] b")
    assert settings.sources["c"] == "environment FLAGPORT_PASSALL_C"


def test_provider_choice_follows_the_same_precedence(tmp_path: Path) -> None:
    write(tmp_path / "flagport.toml", 'provider = "growthbook"\n')
    assert load_settings(cwd=tmp_path, environ={}).provider == "growthbook"
    env = {"FLAGPORT_PROVIDER": "statsig"}
    assert load_settings(cwd=tmp_path, environ=env).provider == "statsig"
    assert load_settings("passall", cwd=tmp_path, environ=env).provider == "passall"


def test_env_json_values_and_strict_and_events(tmp_path: Path) -> None:
    env = {
        "FLAGPORT_PROVIDER": "passall",
        "FLAGPORT_PASSALL_BOOTSTRAP": '{"a": [1, 2]}',
        "FLAGPORT_STRICT": "true",
        "FLAGPORT_EVENTS_SINKS": '["jsonl"]',
    }
    settings = load_settings(cwd=tmp_path, environ=env)
    assert settings.options == {"bootstrap": {"a": [1, 2]}}
    assert settings.strict is True
    assert settings.events == {"sinks": ["jsonl"]}


def test_explicit_config_file_and_missing_one(tmp_path: Path) -> None:
    config = write(tmp_path / "custom.toml", 'provider = "passall"\nstrict = true\n')
    assert load_settings(environ={"FLAGPORT_CONFIG": str(config)}, cwd=tmp_path).strict
    with pytest.raises(ConfigurationError, match="does not exist"):
        load_settings(environ={"FLAGPORT_CONFIG": str(tmp_path / "nope.toml")}, cwd=tmp_path)


def test_bad_toml_names_the_file(tmp_path: Path) -> None:
    write(tmp_path / "flagport.toml", "provider = \n")
    with pytest.raises(ConfigurationError, match=r"flagport\.toml: not valid TOML"):
        load_settings(cwd=tmp_path, environ={})


def test_unknown_top_level_key_is_an_error(tmp_path: Path) -> None:
    write(tmp_path / "flagport.toml", 'provder = "passall"\n')
    with pytest.raises(ConfigurationError, match="unknown top-level setting 'provder'"):
        load_settings(cwd=tmp_path, environ={})


class SecretOptions(ProviderOptions):
    server_secret: SecretStr = Field(description="The secret.")
    timeout_ms: int = 3000


def test_option_errors_name_their_source_and_suggest_a_fix() -> None:
    with pytest.raises(ConfigurationError) as info:
        validate_options(
            SecretOptions,
            {"server_secret": "secret-abc123", "timeout_ms": "soon", "timout": 1},
            {
                "timeout_ms": "environment FLAGPORT_X_TIMEOUT_MS",
                "timout": "flagport.toml [x] timout",
            },
            "provider 'x'",
        )
    message = str(info.value)
    assert "environment FLAGPORT_X_TIMEOUT_MS" in message
    assert "flagport.toml [x] timout" in message
    assert "did you mean 'timeout_ms'?" in message
    assert "secret-abc123" not in message
    assert len(info.value.problems) == 2


def test_missing_required_option_says_how_to_set_it() -> None:
    with pytest.raises(ConfigurationError, match="'server_secret' is required"):
        validate_options(SecretOptions, {}, {}, "provider 'x'")


def test_secrets_never_appear_in_repr_or_describe() -> None:
    options = SecretOptions(server_secret=SecretStr("secret-abc123"))
    assert "secret-abc123" not in repr(options)
    assert "secret-abc123" not in str(options.model_dump(mode="json"))


def test_client_uses_settings_files(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    write(tmp_path / "flagport.toml", 'provider = "passall"\n[passall]\ngate_value = false\n')
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("FLAGPORT_PROVIDER", raising=False)
    with Flagport.from_settings() as fp:
        assert fp.provider_name == "passall"
        assert fp.check_gate({"user_id": "1"}, "g") is False
    with Flagport(gate_value=True) as fp:
        assert fp.check_gate({"user_id": "1"}, "g") is True
