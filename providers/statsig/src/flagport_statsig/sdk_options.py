"""What the Statsig SDK is given: its options, built from the provider's."""

from __future__ import annotations

from typing import Any

from statsig_python_core import ProxyConfig
from statsig_python_core import StatsigOptions as SdkOptions

from flagport.errors import ConfigurationError, Location
from flagport_statsig._convert import _SpecsStore
from flagport_statsig.options import StatsigOptions
from flagport_statsig.sdk_output import SdkOutput

__all__ = ["SDK_INIT_GRACE_MS", "check_urls", "private_urls", "sdk_options"]

#: flagport waits ``init_timeout_ms`` itself and gives the SDK this much longer, beyond
#: its 10 s request timeout: a slow start-up is not reported to Statsig as an error (with
#: custom URLs no report reaches Statsig anyway, :mod:`.egress`), and the SDK's start-up,
#: which it abandons at its own timeout, can still finish when the server answers late.
SDK_INIT_GRACE_MS = 30_000


def private_urls(o: StatsigOptions) -> list[str]:
    """The URLs the SDK may reach when it must reach no other host (empty: any host,
    Statsig's defaults). Any custom URL makes the provider private."""
    urls = o.custom_urls()
    if o.offline or not urls:
        return []
    if not o.enable_id_lists:
        urls.pop("id_lists_url", None)
    return list(urls.values())


def check_urls(o: StatsigOptions) -> None:
    """Check that a private provider (:func:`private_urls`) has a URL for each endpoint
    the SDK uses: without one the SDK would use Statsig's, which it may not reach.

    :raises ConfigurationError: naming each missing option.
    """
    given = o.custom_urls()
    if o.offline or not given:
        return
    needed = ["specs_url", "log_event_url"] + (["id_lists_url"] if o.enable_id_lists else [])
    missing = [name for name in needed if getattr(o, name) is None]
    if not missing:
        return
    raise ConfigurationError(
        f"the statsig provider is pointed at your own server ({', '.join(sorted(given))}) "
        f"but has no {' or '.join(missing)}: the SDK would use Statsig's API for it, and "
        "a provider with custom URLs reaches no host but theirs",
        [
            (
                Location("options", name),
                f"set {name} (your server's, or Statsig's own URL to use Statsig for it), "
                "or set api_url, the base URL of all three endpoints",
            )
            for name in missing
        ],
    )


def sdk_options(
    o: StatsigOptions, bootstrap_json: str | None, proxy_port: int | None = None
) -> SdkOptions:
    """The SDK's options for a provider's options ``o``.

    :param bootstrap_json: the bootstrap specs, served by a data store until the first
        download succeeds (None: none).
    :param proxy_port: the port of the :class:`~flagport_statsig.egress.EgressGuard` on
        127.0.0.1 every request goes through (None: none).
    """
    kwargs: dict[str, Any] = {
        "init_timeout_ms": o.init_timeout_ms + SDK_INIT_GRACE_MS,
        "specs_sync_interval_ms": o.specs_sync_interval_ms,
        "disable_country_lookup": o.disable_country_lookup,
        "output_log_level": o.log_level,
        "output_logger_provider": SdkOutput(),  # type: ignore[no-untyped-call]
    }
    optional = {
        "specs_url": o.specs_url,
        "log_event_url": o.log_event_url,
        "id_lists_url": o.id_lists_url,
        "environment": o.environment,
        "event_logging_flush_interval_ms": o.event_flush_interval_ms,
        "event_logging_max_queue_size": o.event_queue_size,
        "service_name": o.service_name,
    }
    kwargs.update({k: v for k, v in optional.items() if v is not None})
    if o.enable_id_lists:
        kwargs["enable_id_lists"] = True
    if o.offline:
        kwargs["disable_network"] = True
    elif private_urls(o):
        # A custom URL is where definitions come from: never Statsig's API instead.
        kwargs["fallback_to_statsig_api"] = False
    if proxy_port is not None:
        kwargs["proxy_config"] = ProxyConfig(proxy_host="127.0.0.1", proxy_port=proxy_port)
    if bootstrap_json is not None:
        kwargs["data_store"] = _SpecsStore(bootstrap_json)
    return SdkOptions(**kwargs)
