"""What the Statsig SDK is given: its options, built from the provider's."""

from __future__ import annotations

from typing import Any

from statsig_python_core import ProxyConfig
from statsig_python_core import StatsigOptions as SdkOptions

from flagport_statsig._convert import _SpecsStore, warn_once
from flagport_statsig.options import StatsigOptions
from flagport_statsig.sdk_output import SdkOutput

__all__ = ["SDK_INIT_GRACE_MS", "STATSIG_URLS", "check_urls", "private_urls", "sdk_options"]

#: flagport waits ``init_timeout_ms`` itself and gives the SDK this much longer, beyond
#: its 10 s request timeout: a slow start-up is not reported to Statsig as an error (with
#: custom URLs no report reaches Statsig anyway, :mod:`.egress`), and the SDK's start-up,
#: which it abandons at its own timeout, can still finish when the server answers late.
SDK_INIT_GRACE_MS = 30_000


#: Statsig's own URL of each endpoint: where the SDK goes for one not given its own.
STATSIG_URLS = {
    "specs_url": "https://api.statsigcdn.com/v2/download_config_specs",
    "id_lists_url": "https://api.statsigcdn.com/v1/get_id_lists",
    "log_event_url": "https://prodregistryv2.org/v1/log_event",
}


def _used(o: StatsigOptions) -> list[str]:
    """The endpoints (option names) the SDK uses."""
    return ["specs_url", "log_event_url"] + (["id_lists_url"] if o.enable_id_lists else [])


def private_urls(o: StatsigOptions) -> list[str]:
    """The URLs the SDK may reach when it must reach no other host (empty: any host,
    Statsig's defaults, no custom URL). With a custom URL, the SDK reaches each endpoint
    it uses at its custom URL, or at Statsig's own URL for one not given, and nothing
    else: none of its error reports go to Statsig's API."""
    given = o.custom_urls()
    if o.offline or not given:
        return []
    return [given.get(name, STATSIG_URLS[name]) for name in _used(o)]


def check_urls(o: StatsigOptions) -> None:
    """Warn (once per process) when some endpoints the SDK uses have a custom URL and
    others do not: those go to Statsig's API, with the server secret."""
    given = o.custom_urls()
    if o.offline or not given:
        return
    if missing := [name for name in _used(o) if name not in given]:
        warn_once(
            "mixed-urls:" + ",".join(missing),
            "flagport-statsig: %s set, %s not: the SDK uses Statsig's own API for %s; set "
            "%s too (or api_url, the base URL of all three) to keep everything on your server",
            " and ".join(sorted(given)),
            " and ".join(missing),
            "it" if len(missing) == 1 else "them",
            "it" if len(missing) == 1 else "them",
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
