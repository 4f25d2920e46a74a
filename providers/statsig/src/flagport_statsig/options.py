"""Options of the ``statsig`` provider.

Set them in code (``Flagport(provider="statsig", server_secret=...)``), in the
environment (``FLAGPORT_STATSIG_SERVER_SECRET``) or in a file (``[statsig]`` in
``flagport.toml``); the client layers the sources, this module only declares them.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from pydantic import Field, SecretStr, field_validator, model_validator

from flagport._exports import lazy_export
from flagport.provider import ProviderOptions
from flagport.urls import HttpUrlOption, check_http_url

__all__ = ["StatsigOptions"]

#: The Statsig SDK silently replaces a sync interval below this with its 10 s default,
#: so a smaller value is rejected here instead of being ignored there.
MIN_SYNC_INTERVAL_MS = 1000

#: Where each endpoint sits below ``api_url`` (Statsig's own paths).
API_PATHS = {
    "specs_url": "/v2/download_config_specs",
    "id_lists_url": "/v1/get_id_lists",
    "log_event_url": "/v1/log_event",
}


class StatsigOptions(ProviderOptions):
    """Options of :class:`~flagport_statsig.StatsigProvider`."""

    server_secret: SecretStr | None = Field(
        default=None,
        description="The server secret key (secret-...). Required unless offline=true.",
    )
    environment: str | None = Field(
        default=None,
        description="Statsig environment tier (development, staging, production); "
        "rules that target an environment see it.",
    )
    api_url: HttpUrlOption | None = Field(
        default=None,
        description="Base URL of your own Statsig-compatible server (a proxy): sets "
        "specs_url to <api_url>/v2/download_config_specs, id_lists_url to "
        "<api_url>/v1/get_id_lists and log_event_url to <api_url>/v1/log_event, unless "
        "those are set themselves. With a custom URL the SDK reaches no host but the "
        "endpoints' (no error reports to Statsig's API).",
    )
    specs_url: HttpUrlOption | None = Field(
        default=None,
        description="Base URL the definitions (config specs) are downloaded from; "
        "the SDK appends /<server_secret>.json. Default: Statsig's CDN.",
    )
    log_event_url: HttpUrlOption | None = Field(
        default=None, description="URL events are POSTed to. Default: Statsig's event API."
    )
    enable_id_lists: bool = Field(
        default=False,
        description="Download Statsig's ID lists (in_segment_list conditions); start() "
        "waits for them with the definitions.",
    )
    id_lists_url: HttpUrlOption | None = Field(
        default=None,
        description="URL of the ID-list lookup (get_id_lists). Default: Statsig's API.",
    )
    init_timeout_ms: int = Field(
        default=3000,
        ge=0,
        description="How long start() waits for the first definitions before serving "
        "defaults with PROVIDER_NOT_READY (the SDK keeps trying in the background).",
    )
    specs_sync_interval_ms: int = Field(
        default=10_000,
        ge=MIN_SYNC_INTERVAL_MS,
        description="How often changed definitions are polled for (at least 1000 ms).",
    )
    event_flush_interval_ms: int | None = Field(
        default=None, ge=1, description="How often queued events are sent (SDK default when unset)."
    )
    event_queue_size: int | None = Field(
        default=None, ge=1, description="Events buffered before a flush is forced (SDK default)."
    )
    offline: bool = Field(
        default=False,
        description="Never touch the network: definitions come from bootstrap, "
        "events are discarded by the SDK.",
    )
    bootstrap: Path | dict[str, Any] | None = Field(
        default=None,
        description="Definitions in Statsig's config-specs JSON (download_config_specs), "
        "as a file path or a dict. Required when offline; online it serves until the "
        "first download succeeds.",
    )
    disable_country_lookup: bool = Field(
        default=True,
        description="Do not derive the country from the IP address (loads a database "
        "at start); set User.country instead.",
    )
    log_level: Literal["none", "error", "warn", "info", "debug"] = Field(
        default="error", description="The SDK's own console log level."
    )
    service_name: str | None = Field(default=None, description="Service name reported to Statsig.")

    @model_validator(mode="before")
    @classmethod
    def _urls_from_api_url(cls, data: Any) -> Any:
        base = data.get("api_url") if isinstance(data, dict) else None
        if not isinstance(base, str):
            return data
        try:
            check_http_url(base)
        except ValueError:
            return data  # api_url's own check says what is wrong, once
        derived = {k: base.rstrip("/") + p for k, p in API_PATHS.items() if data.get(k) is None}
        return {**data, **derived}

    def custom_urls(self) -> dict[str, str]:
        """The endpoints given their own URL (option name: URL); empty: Statsig's."""
        urls = {name: getattr(self, name) for name in API_PATHS}
        return {name: url for name, url in urls.items() if url is not None}

    @field_validator("bootstrap")
    @classmethod
    def _bootstrap_exists(cls, value: Path | dict[str, Any] | None) -> Path | dict[str, Any] | None:
        if isinstance(value, Path) and not value.is_file():
            raise ValueError(
                f"bootstrap file {str(value)!r} does not exist; give the path of a "
                "config-specs JSON file, or the specs as a dict"
            )
        return value


if TYPE_CHECKING:
    StatsigProviderOptions = StatsigOptions

# The old name, still importable with a DeprecationWarning.
_RENAMED = {"StatsigProviderOptions": "flagport_statsig.options:StatsigOptions"}


def __getattr__(name: str) -> Any:
    return lazy_export(__name__, name, {}, _RENAMED)
