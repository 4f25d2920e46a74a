"""Options of the ``featbit`` provider.

Set them in code (``Flagport(provider="featbit", env_secret=...)``), in the
environment (``FLAGPORT_FEATBIT_ENV_SECRET``) or in ``flagport.toml`` (``[featbit]``);
the client does the layering, this module only declares and checks them.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Self
from urllib.parse import urlsplit

from pydantic import Field, SecretStr, ValidationError, field_validator, model_validator
from pydantic_core import InitErrorDetails, PydanticCustomError

from flagport.provider import ProviderOptions

__all__ = ["FeatBitOptions"]


def _how_to_set(option: str) -> str:
    return (
        f"set it in code ({option}=...), in the environment "
        f"(FLAGPORT_FEATBIT_{option.upper()}) or in flagport.toml ([featbit] {option} = ...)"
    )


class FeatBitOptions(ProviderOptions):
    """How to reach FeatBit (or run without it) and how to batch events."""

    env_secret: SecretStr | None = Field(
        default=None,
        description="The environment's server-side secret. Required unless offline.",
    )
    streaming_url: str | None = Field(
        default=None,
        description="The evaluation server's websocket base URL (ws:// or wss://); "
        "the SDK appends /streaming. Required unless offline.",
    )
    event_url: str | None = Field(
        default=None,
        description="The evaluation server's HTTP base URL (http:// or https://) that "
        "receives insight events at /api/public/insight/track. Required unless offline.",
    )
    start_wait: float = Field(
        default=5.0,
        ge=0,
        description="Seconds start() waits for the first data-sync; after that the "
        "provider serves defaults (PROVIDER_NOT_READY) and keeps connecting.",
    )
    offline: bool = Field(
        default=False, description="Make no network connection; answer from `bootstrap`."
    )
    bootstrap: Path | dict[str, Any] | None = Field(
        default=None,
        description="Definitions for offline mode: a JSON file path, or the data-sync "
        'message itself ({"messageType": "data-sync", "data": {"eventType": "full", '
        '"featureFlags": [...], "segments": [...]}}).',
    )
    events_flush_interval: float = Field(
        default=1.0,
        gt=0,
        le=3.0,
        description="Seconds between insight batches (the SDK caps it at 3).",
    )
    events_max_in_queue: int = Field(
        default=10_000, gt=0, description="Events queued before the SDK starts dropping them."
    )
    streaming_first_retry_delay: float = Field(
        default=1.0,
        gt=0,
        le=60.0,
        description="Seconds before the first reconnection attempt (then exponential backoff).",
    )
    connect_timeout: float = Field(
        default=5.0, gt=0, le=10.0, description="Websocket connection timeout in seconds."
    )
    quiet_sdk_logs: bool = Field(
        default=True,
        description="Raise the `fbclient` logger to WARNING when it has no level of its "
        "own: the SDK logs every single evaluation at INFO.",
    )

    @field_validator("streaming_url", "event_url")
    @classmethod
    def _strip_url(cls, value: str | None) -> str | None:
        if value is None:
            return None
        value = value.strip().rstrip("/")
        return value or None

    @model_validator(mode="after")
    def _check_mode(self) -> Self:
        # Problems are reported per option (not as one model-level message) so that
        # flagport names where each offending option came from.
        problems: list[tuple[str, str]] = []
        if self.offline:
            if self.bootstrap is None:
                problems.append(
                    (
                        "bootstrap",
                        "offline=true needs the definitions to serve (a JSON file path, or "
                        "the FeatBit data-sync message itself); " + _how_to_set("bootstrap"),
                    )
                )
        else:
            if self.bootstrap is not None:
                problems.append(
                    (
                        "bootstrap",
                        "is only used offline: also set offline=true "
                        "(FLAGPORT_FEATBIT_OFFLINE=1), or remove bootstrap to use the network",
                    )
                )
            secret = self.env_secret.get_secret_value().strip() if self.env_secret else ""
            if not secret:
                problems.append(
                    ("env_secret", "is required unless offline=true; " + _how_to_set("env_secret"))
                )
            elif not secret.isascii():
                problems.append(("env_secret", "must be ASCII (FeatBit secrets are)"))
            for name, schemes in (
                ("streaming_url", ("ws", "wss")),
                ("event_url", ("http", "https")),
            ):
                url = getattr(self, name)
                if url is None:
                    problems.append((name, "is required unless offline=true; " + _how_to_set(name)))
                    continue
                parts = urlsplit(url)
                if parts.scheme not in schemes or not parts.netloc:
                    wanted = " or ".join(f"{scheme}://" for scheme in schemes)
                    problems.append((name, f"must be an absolute {wanted} URL, got {url!r}"))
        if problems:
            raise ValidationError.from_exception_data(
                type(self).__name__,
                [
                    InitErrorDetails(
                        type=PydanticCustomError("featbit_option", "{problem}", {"problem": text}),
                        loc=(name,),
                        input=None,
                    )
                    for name, text in problems
                ],
            )
        return self
