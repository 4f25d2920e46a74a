"""What the Statsig SDK is given: its options, built from the provider's."""

from __future__ import annotations

from typing import Any

from statsig_python_core import StatsigOptions as SdkOptions

from flagport_statsig._convert import _SpecsStore
from flagport_statsig.options import StatsigOptions
from flagport_statsig.sdk_output import SdkOutput

__all__ = ["SDK_INIT_GRACE_MS", "sdk_options"]

#: The SDK reports its own errors, an initialisation timeout among them, to Statsig's
#: public API (``statsigapi.net/v1/sdk_exception``, with the server secret) whatever URLs
#: it was given, and has no option to stop that. flagport waits ``init_timeout_ms`` itself
#: and gives the SDK this much longer, beyond its 10 s request timeout, so a slow start-up
#: is not reported there.
SDK_INIT_GRACE_MS = 30_000


def sdk_options(o: StatsigOptions, bootstrap_json: str | None) -> SdkOptions:
    """The SDK's options for a provider's options ``o``.

    :param bootstrap_json: the bootstrap specs, served by a data store until the first
        download succeeds (None: none).
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
    elif o.specs_url is not None or o.id_lists_url is not None:
        # A custom URL is where definitions come from: never Statsig's API instead.
        kwargs["fallback_to_statsig_api"] = False
    if bootstrap_json is not None:
        kwargs["data_store"] = _SpecsStore(bootstrap_json)
    return SdkOptions(**kwargs)
