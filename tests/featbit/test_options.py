"""Options: validated at construction with errors naming the option, its source and the fix."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from flagport import ConfigurationError, Flagport
from flagport_featbit import FeatBitOptions, FeatBitProvider

ONLINE = {
    "env_secret": "secret-1",
    "streaming_url": "wss://eval.example.test",
    "event_url": "https://eval.example.test",
}


@pytest.fixture(autouse=True)
def _no_settings_files(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    for var in ("FLAGPORT_PROVIDER", "FLAGPORT_CONFIG"):
        monkeypatch.delenv(var, raising=False)


def test_missing_secret_online_names_option_and_env_var() -> None:
    with pytest.raises(ConfigurationError) as info:
        Flagport(
            provider="featbit", streaming_url=ONLINE["streaming_url"], event_url=ONLINE["event_url"]
        )
    message = str(info.value)
    assert "env_secret" in message
    assert "FLAGPORT_FEATBIT_ENV_SECRET" in message
    assert "streaming_url" not in message.split("env_secret", 1)[1]


def test_every_missing_url_is_reported_at_once() -> None:
    with pytest.raises(ConfigurationError) as info:
        FeatBitProvider.from_options(env_secret="s")
    assert [loc.path for loc, _ in info.value.problems] == ["streaming_url", "event_url"]


def test_blank_secret_is_missing() -> None:
    with pytest.raises(ConfigurationError, match="env_secret"):
        FeatBitProvider.from_options(**{**ONLINE, "env_secret": "   "})


@pytest.mark.parametrize(
    ("option", "value"),
    [("streaming_url", "https://eval.example.test"), ("event_url", "eval.example.test")],
)
def test_url_schemes_are_checked(option: str, value: str) -> None:
    with pytest.raises(ConfigurationError, match=option):
        FeatBitProvider.from_options(**{**ONLINE, option: value})


def test_source_of_a_bad_option_is_named(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FLAGPORT_FEATBIT_ENV_SECRET", "from-env")
    monkeypatch.setenv("FLAGPORT_FEATBIT_STREAMING_URL", "http://wrong.example.test")
    monkeypatch.setenv("FLAGPORT_FEATBIT_EVENT_URL", ONLINE["event_url"])
    with pytest.raises(ConfigurationError) as info:
        Flagport(provider="featbit")
    [(location, text)] = info.value.problems
    assert location.source == "environment FLAGPORT_FEATBIT_STREAMING_URL"
    assert "ws://" in text


def test_environment_and_toml_layering(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "flagport.toml").write_text(
        'provider = "featbit"\n[featbit]\nstreaming_url = "wss://toml.example.test"\n'
        'event_url = "https://toml.example.test"\nstart_wait = 1.5\n'
    )
    monkeypatch.setenv("FLAGPORT_FEATBIT_ENV_SECRET", "env-secret")
    client = Flagport.from_settings(start_wait=0.5)
    options = client._provider.options
    assert isinstance(options, FeatBitOptions)
    assert options.streaming_url == "wss://toml.example.test"
    assert options.env_secret is not None
    assert options.env_secret.get_secret_value() == "env-secret"
    assert options.start_wait == 0.5
    # Construction starts nothing: no thread, no socket (the URLs do not resolve).
    assert client._provider.status.value == "NOT_READY"


def test_secret_is_never_shown() -> None:
    provider = FeatBitProvider.from_options(**ONLINE)
    assert "secret-1" not in repr(provider.options)
    assert "secret-1" not in json.dumps(provider.describe())


def test_unknown_option_suggests_the_right_one() -> None:
    with pytest.raises(ConfigurationError, match="did you mean 'start_wait'"):
        FeatBitProvider.from_options(**ONLINE, start_wiat=2)


def test_offline_needs_bootstrap() -> None:
    with pytest.raises(ConfigurationError, match="FLAGPORT_FEATBIT_BOOTSTRAP"):
        FeatBitProvider.from_options(offline=True)


def test_bootstrap_without_offline_is_an_error(bootstrap: dict[str, Any]) -> None:
    with pytest.raises(ConfigurationError, match="offline=true"):
        FeatBitProvider.from_options(**ONLINE, bootstrap=bootstrap)


def test_offline_needs_no_secret_nor_urls(bootstrap: dict[str, Any]) -> None:
    provider = FeatBitProvider.from_options(offline=True, bootstrap=bootstrap)
    assert provider.options.env_secret is None


def test_bootstrap_file_problems_are_located(tmp_path: Path, bootstrap: dict[str, Any]) -> None:
    del bootstrap["data"]["featureFlags"][1]["fallthrough"]
    bootstrap["data"]["featureFlags"][2]["updatedAt"] = "yesterday"
    path = tmp_path / "flags.json"
    path.write_text(json.dumps(bootstrap))
    with pytest.raises(ConfigurationError) as info:
        FeatBitProvider.from_options(offline=True, bootstrap=str(path))
    problems = {(loc.source, loc.path): text for loc, text in info.value.problems}
    assert problems == {
        (str(path), "data.featureFlags[1]"): "missing fallthrough",
        (str(path), "data.featureFlags[2].updatedAt"): "not an ISO-8601 timestamp",
    }


def test_bootstrap_file_that_is_not_json_gives_its_line(tmp_path: Path) -> None:
    path = tmp_path / "flags.json"
    path.write_text('{\n  "messageType": "data-sync",\n  "data": {,}\n}\n')
    with pytest.raises(ConfigurationError) as info:
        FeatBitProvider.from_options(offline=True, bootstrap=path)
    [(location, _)] = info.value.problems
    assert (location.source, location.line) == (str(path), 3)


def test_missing_bootstrap_file() -> None:
    with pytest.raises(ConfigurationError, match="cannot read"):
        FeatBitProvider.from_options(offline=True, bootstrap="/no/such/flags.json")


def test_bootstrap_may_be_the_bare_data_object(bootstrap: dict[str, Any]) -> None:
    provider = FeatBitProvider.from_options(offline=True, bootstrap=bootstrap["data"])
    provider.start()
    try:
        assert "pricing" in provider.names().configs
    finally:
        provider.shutdown()


def test_bootstrap_from_the_environment_as_json(
    monkeypatch: pytest.MonkeyPatch, bootstrap: dict[str, Any]
) -> None:
    monkeypatch.setenv("FLAGPORT_PROVIDER", "featbit")
    monkeypatch.setenv("FLAGPORT_FEATBIT_OFFLINE", "true")
    monkeypatch.setenv("FLAGPORT_FEATBIT_BOOTSTRAP", json.dumps(bootstrap))
    with Flagport.from_settings() as client:
        assert client.get_config({"user_id": "u", "plan": "pro"}, "pricing").value == {
            "discount": 0.1
        }
