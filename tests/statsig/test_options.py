"""Options: validation at construction, with messages that say how to fix them."""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

import pytest

from flagport import ConfigurationError, Flagport
from flagport.plugins import get_provider_class
from flagport_statsig import StatsigOptions, StatsigProvider, _convert
from flagport_statsig.sdk_options import STATSIG_URLS, private_urls


def test_registered_under_its_name() -> None:
    assert get_provider_class("statsig") is StatsigProvider


def test_missing_secret_online_names_the_option_and_env_var() -> None:
    with pytest.raises(ConfigurationError) as info:
        StatsigProvider.from_options()
    message = str(info.value)
    assert "server_secret" in message
    assert "FLAGPORT_STATSIG_SERVER_SECRET" in message


def test_missing_secret_through_the_client(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("FLAGPORT_STATSIG_SERVER_SECRET", raising=False)
    with pytest.raises(ConfigurationError, match="FLAGPORT_STATSIG_SERVER_SECRET"):
        Flagport(provider="statsig", specs_url="http://127.0.0.1:9/v2/download_config_specs")


def test_secret_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FLAGPORT_STATSIG_SERVER_SECRET", "secret-from-env")
    fp = Flagport(provider="statsig", init_timeout_ms=100)
    provider = fp._provider
    assert isinstance(provider, StatsigProvider)
    assert provider.options.server_secret is not None
    assert provider.options.server_secret.get_secret_value() == "secret-from-env"
    assert "secret-from-env" not in json.dumps(provider.describe())
    fp.shutdown()


def test_sync_interval_below_the_sdk_minimum_is_an_error() -> None:
    with pytest.raises(ConfigurationError, match="specs_sync_interval_ms"):
        Flagport(provider="statsig", server_secret="secret-x", specs_sync_interval_ms=500)


def test_unknown_option_is_an_error() -> None:
    with pytest.raises(ConfigurationError, match="server_secret"):
        Flagport(provider="statsig", server_secrets="secret-x")


def test_offline_without_bootstrap_is_an_error() -> None:
    with pytest.raises(ConfigurationError, match="bootstrap"):
        StatsigProvider.from_options(offline=True)


def test_bootstrap_file_must_exist(tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError, match="does not exist"):
        Flagport(provider="statsig", offline=True, bootstrap=str(tmp_path / "missing.json"))


def test_bootstrap_file_with_bad_json_reports_file_and_line(tmp_path: Path) -> None:
    path = tmp_path / "specs.json"
    path.write_text('{\n  "feature_gates": {,\n}')
    with pytest.raises(ConfigurationError) as info:
        StatsigProvider.from_options(offline=True, bootstrap=str(path))
    assert f"{path}:2" in str(info.value)


@pytest.mark.parametrize("bad", [{"gates": {}}, {"feature_gates": []}])
def test_bootstrap_must_look_like_config_specs(bad: dict[str, Any]) -> None:
    with pytest.raises(ConfigurationError, match=r"config-specs|must be an object"):
        StatsigProvider.from_options(offline=True, bootstrap=bad)


def test_bootstrap_file_is_read(tmp_path: Path, specs: dict[str, Any]) -> None:
    path = tmp_path / "specs.json"
    path.write_text(json.dumps(specs))
    options = StatsigOptions(offline=True, bootstrap=path)
    with Flagport(StatsigProvider(options)) as fp:
        assert "new_checkout" in fp.names().gates


def test_options_are_frozen_and_forbid_extras() -> None:
    options = StatsigOptions(server_secret="secret-x")
    with pytest.raises(ValueError, match="frozen"):
        options.offline = True  # type: ignore[misc]


def test_options_are_named_like_the_other_vendors() -> None:
    """``StatsigOptions`` as ``GrowthBookOptions`` and ``FeatBitOptions``; it is the model."""
    import flagport_featbit
    import flagport_growthbook
    import flagport_statsig

    assert StatsigProvider.Options is StatsigOptions
    assert flagport_growthbook.GrowthBookProvider.Options is flagport_growthbook.GrowthBookOptions
    assert flagport_featbit.FeatBitProvider.Options is flagport_featbit.FeatBitOptions
    assert "StatsigOptions" in flagport_statsig.__all__
    assert "StatsigProviderOptions" not in flagport_statsig.__all__


@pytest.mark.parametrize("module", ["flagport_statsig", "flagport_statsig.options"])
def test_old_options_name_still_imports_with_a_warning(module: str) -> None:
    import importlib

    with pytest.warns(DeprecationWarning, match=r"StatsigProviderOptions.*StatsigOptions"):
        old = importlib.import_module(module).StatsigProviderOptions
    assert old is StatsigOptions


def test_unknown_name_is_still_an_attribute_error() -> None:
    import flagport_statsig

    with pytest.raises(AttributeError, match="no attribute 'Nope'"):
        flagport_statsig.Nope  # noqa: B018


@pytest.mark.parametrize("option", ["specs_url", "log_event_url", "id_lists_url"])
def test_a_url_that_is_not_http_is_refused_at_construction(option: str) -> None:
    with pytest.raises(ConfigurationError) as info:
        Flagport(provider="statsig", server_secret="secret-abc", **{option: "statsig.internal"})
    assert f"option '{option}': must start with http:// or https://" in str(info.value)
    assert "secret-abc" not in str(info.value)


def test_api_url_is_the_base_of_every_endpoint_unless_one_is_given() -> None:
    options = StatsigOptions(
        server_secret="secret-x",
        api_url="https://statsig.internal/proxy/",
        log_event_url="https://events.internal/v1/log_event",
    )
    assert options.specs_url == "https://statsig.internal/proxy/v2/download_config_specs"
    assert options.id_lists_url == "https://statsig.internal/proxy/v1/get_id_lists"
    assert options.log_event_url == "https://events.internal/v1/log_event"


def test_api_url_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FLAGPORT_STATSIG_API_URL", "http://127.0.0.1:9")
    fp = Flagport(provider="statsig", server_secret="secret-x")
    assert isinstance(fp._provider, StatsigProvider)
    assert fp._provider.options.log_event_url == "http://127.0.0.1:9/v1/log_event"


def test_a_bad_api_url_is_reported_once_as_itself() -> None:
    with pytest.raises(ConfigurationError) as info:
        Flagport(provider="statsig", server_secret="secret-x", api_url="statsig.internal")
    message = str(info.value)
    assert "option 'api_url': must start with http:// or https://" in message
    assert "specs_url" not in message


@pytest.mark.parametrize(
    ("given", "missing"),
    [
        ({"specs_url": "http://127.0.0.1:9/v2/download_config_specs"}, "log_event_url"),
        ({"log_event_url": "http://127.0.0.1:9/v1/log_event"}, "specs_url"),
    ],
)
def test_a_custom_url_for_one_endpoint_warns_that_the_others_go_to_statsig(
    given: dict[str, Any], missing: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, "flagport.statsig")
    _convert._warned.clear()
    provider = StatsigProvider.from_options(server_secret="secret-abc", **given)
    (record,) = [r for r in caplog.records if "Statsig's own API" in r.getMessage()]
    assert f"{missing} not: the SDK uses Statsig's own API for it" in record.getMessage()
    assert "secret-abc" not in record.getMessage()
    allowed = private_urls(provider.options)  # what the egress guard lets through
    assert STATSIG_URLS[missing] in allowed
    assert "https://statsigapi.net/v1/sdk_exception" not in allowed


def test_offline_needs_no_url() -> None:
    provider = StatsigProvider.from_options(
        offline=True, bootstrap={"feature_gates": {}}, specs_url="http://127.0.0.1:9/v2/x"
    )
    assert provider.options.log_event_url is None
