"""The SDK's options: with custom URLs, every request goes through flagport's guard."""

from __future__ import annotations

from flagport_statsig.options import StatsigOptions
from flagport_statsig.sdk_options import SDK_INIT_GRACE_MS, private_urls, sdk_options

SECRET = "secret-x"
BASE = "http://127.0.0.1:9"


def test_statsig_s_own_urls_are_not_guarded() -> None:
    options = StatsigOptions(server_secret=SECRET, init_timeout_ms=500)
    assert private_urls(options) == []
    sdk = sdk_options(options, None)
    assert sdk.proxy_config is None
    assert sdk.fallback_to_statsig_api is None
    assert sdk.init_timeout_ms == 500 + SDK_INIT_GRACE_MS


def test_custom_urls_are_the_only_ones_let_through() -> None:
    options = StatsigOptions(server_secret=SECRET, api_url=BASE, init_timeout_ms=500)
    # ID lists are not downloaded: their URL is not needed, so not allowed either.
    assert private_urls(options) == [f"{BASE}/v2/download_config_specs", f"{BASE}/v1/log_event"]
    with_lists = options.model_copy(update={"enable_id_lists": True})
    assert f"{BASE}/v1/get_id_lists" in private_urls(with_lists)
    sdk = sdk_options(options, None, proxy_port=4321)
    assert sdk.proxy_config is not None
    assert (sdk.proxy_config.proxy_host, sdk.proxy_config.proxy_port) == ("127.0.0.1", 4321)
    assert sdk.fallback_to_statsig_api is False
    assert sdk.init_timeout_ms == 500 + SDK_INIT_GRACE_MS


def test_offline_reaches_nothing_without_a_guard() -> None:
    options = StatsigOptions(offline=True, api_url=BASE)
    assert private_urls(options) == []
    assert sdk_options(options, None).disable_network is True
