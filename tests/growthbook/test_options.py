"""Options: validation at construction, with messages that say how to fix them."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from flagport import Flagport, User
from flagport.errors import ConfigurationError
from flagport_growthbook import GrowthBookOptions, GrowthBookProvider


@pytest.fixture(autouse=True)
def _no_settings_files(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    for var in [v for v in __import__("os").environ if v.startswith("FLAGPORT_")]:
        monkeypatch.delenv(var)


def test_missing_client_key_names_the_option_and_the_variable() -> None:
    with pytest.raises(ConfigurationError) as info:
        Flagport(provider="growthbook")
    message = str(info.value)
    assert "client_key" in message
    assert "FLAGPORT_GROWTHBOOK_CLIENT_KEY" in message


def test_offline_without_bootstrap_is_an_error() -> None:
    with pytest.raises(ConfigurationError, match="FLAGPORT_GROWTHBOOK_BOOTSTRAP"):
        GrowthBookProvider.from_options(offline=True)


def test_streaming_needs_a_client_key(payload: dict[str, Any]) -> None:
    with pytest.raises(ConfigurationError, match="streaming"):
        GrowthBookProvider.from_options(offline=True, bootstrap=payload, streaming=True)


def test_unknown_option_suggests_the_right_one() -> None:
    with pytest.raises(ConfigurationError, match="did you mean 'client_key'"):
        Flagport(provider="growthbook", client_kee="sdk-x")


def test_options_come_from_the_environment(
    monkeypatch: pytest.MonkeyPatch, payload: dict[str, Any]
) -> None:
    monkeypatch.setenv("FLAGPORT_GROWTHBOOK_OFFLINE", "true")
    monkeypatch.setenv("FLAGPORT_GROWTHBOOK_BOOTSTRAP", json.dumps(payload))
    with Flagport(provider="growthbook") as fp:
        assert fp.check_gate(User(user_id="1", country="US"), "new_checkout") is True


def test_options_come_from_flagport_toml(tmp_path: Path, payload: dict[str, Any]) -> None:
    (tmp_path / "features.json").write_text(json.dumps(payload))
    (tmp_path / "flagport.toml").write_text(
        'provider = "growthbook"\n[growthbook]\noffline = true\n'
        f'bootstrap = "{tmp_path / "features.json"}"\n'
    )
    with Flagport() as fp:
        assert fp.provider_name == "growthbook"
        assert (
            fp.get_config(User(user_id="1", custom={"plan": "pro"}), "pricing").get("discount", 0.0)
            == 0.1
        )


def test_secrets_are_not_shown() -> None:
    options = GrowthBookOptions(client_key="sdk-secret-key", decryption_key="k" * 24)
    shown = repr(options) + json.dumps(GrowthBookProvider(options).describe())
    assert "sdk-secret-key" not in shown
    assert "k" * 24 not in shown


def test_bootstrap_file_problems_are_located(tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError, match=r"no_such\.json"):
        GrowthBookProvider.from_options(offline=True, bootstrap=str(tmp_path / "no_such.json"))
    bad = tmp_path / "bad.json"
    bad.write_text('{"features": {\n  "x": }\n}')
    with pytest.raises(ConfigurationError, match=r"bad.json:2"):
        GrowthBookProvider.from_options(offline=True, bootstrap=str(bad))
    wrong = tmp_path / "wrong.json"
    wrong.write_text(json.dumps({"features": {"x": {"defaultValue": 1, "rules": 5}}}))
    with pytest.raises(ConfigurationError, match=r"features\.x\.rules"):
        GrowthBookProvider.from_options(offline=True, bootstrap=str(wrong))


def test_encrypted_bootstrap_needs_the_decryption_key() -> None:
    encrypted = {"encryptedFeatures": "aXYxMjM0NTY3ODkwMTIzNA==.Ym9ndXM="}
    with pytest.raises(ConfigurationError, match="FLAGPORT_GROWTHBOOK_DECRYPTION_KEY"):
        GrowthBookProvider.from_options(offline=True, bootstrap=encrypted)
    with pytest.raises(ConfigurationError, match="cannot be decrypted"):
        GrowthBookProvider.from_options(
            offline=True, bootstrap=encrypted, decryption_key="Zvwv/+uhpFDznZ6SX28Yjg=="
        )


def test_encrypted_bootstrap_is_decrypted(payload: dict[str, Any]) -> None:
    from flagport_growthbook.testing import encrypt

    key = "Zvwv/+uhpFDznZ6SX28Yjg=="
    sealed = {"encryptedFeatures": encrypt(json.dumps(payload["features"]), key)}
    provider = GrowthBookProvider.from_options(offline=True, bootstrap=sealed, decryption_key=key)
    provider.start()
    assert provider.check_gate(User(user_id="1", country="US"), "new_checkout") is True


def test_construction_starts_nothing(payload: dict[str, Any]) -> None:
    import threading

    before = threading.active_count()
    provider = GrowthBookProvider.from_options(
        client_key="sdk-x",
        api_host="http://127.0.0.1:9",
        streaming=True,
        ingestor_host="http://127.0.0.1:9",
    )
    assert threading.active_count() == before
    assert provider.names().gates == frozenset()


def test_every_bad_feature_is_reported_with_its_path() -> None:
    with pytest.raises(ConfigurationError) as info:
        GrowthBookProvider.from_options(
            offline=True,
            bootstrap={
                "features": {
                    "ok": {"defaultValue": True},
                    "not_an_object": 3,
                    "bad_rules": {"rules": ["nope"]},
                    "bad_coverage": {"rules": [{"force": True, "coverage": "half"}]},
                }
            },
        )
    paths = [loc.path for loc, _ in info.value.problems]
    assert paths == [
        "features.not_an_object",
        "features.bad_rules.rules",
        "features.bad_coverage.rules",
    ]


@pytest.mark.parametrize(
    ("option", "value", "problem"),
    [
        ("api_host", "growthbook.internal", "must start with http:// or https://"),
        ("api_host", "ftp://growthbook.internal", "must start with http:// or https://"),
        ("ingestor_host", "https://", "has no host name"),
    ],
)
def test_a_host_that_is_not_an_http_url_is_refused_at_construction(
    option: str, value: str, problem: str
) -> None:
    # api_host="growthbook.internal" was accepted: every process then waited its whole
    # init_timeout at the first evaluation, and served defaults.
    with pytest.raises(ConfigurationError) as info:
        Flagport(provider="growthbook", client_key="sdk-abc", **{option: value})
    assert f"argument {option} at {option}: option '{option}': {problem}" in str(info.value)
    assert "sdk-abc" not in str(info.value)
