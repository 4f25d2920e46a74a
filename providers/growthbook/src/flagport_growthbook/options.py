"""Options of the ``growthbook`` provider.

Set them in code (``Flagport(provider="growthbook", client_key=...)``), in the
environment (``FLAGPORT_GROWTHBOOK_CLIENT_KEY``) or in ``flagport.toml`` under
``[growthbook]``; the client does the layering, this module only declares them.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from pydantic import Field, SecretStr

from flagport.errors import ConfigurationError, Location
from flagport.jsonfile import read_json_object
from flagport.provider import ProviderOptions
from flagport.urls import HttpUrlOption

__all__ = ["GrowthBookOptions"]

_HOW_TO_SET = (
    "pass {name}=... to Flagport(...), set FLAGPORT_GROWTHBOOK_{env}, "
    "or put {name} under [growthbook] in flagport.toml"
)


class GrowthBookOptions(ProviderOptions):
    """How the ``growthbook`` provider reaches GrowthBook (or runs without it)."""

    client_key: SecretStr | None = Field(
        default=None,
        description="SDK connection key (sdk-...). Required unless offline or bootstrapped.",
    )
    api_host: HttpUrlOption = Field(
        default="https://cdn.growthbook.io",
        description="Where features are fetched: GET <api_host>/api/features/<client_key>.",
    )
    decryption_key: SecretStr | None = Field(
        default=None,
        description="Key of an SDK connection with encrypted features or saved groups.",
    )
    streaming: bool = Field(
        default=False, description="Receive changes over server-sent events (<api_host>/sub/<key>)."
    )
    ingestor_host: HttpUrlOption | None = Field(
        default=None,
        description=(
            "Where events go: POST <ingestor_host>/track?client_key=<key>. "
            "Unset: events reach flagport's own sinks only."
        ),
    )
    offline: bool = Field(
        default=False, description="Never touch the network; definitions come from bootstrap only."
    )
    bootstrap: str | Path | dict[str, Any] | None = Field(
        default=None,
        description=(
            "GrowthBook SDK payload ({'features': {...}, 'savedGroups': {...}}), or a path "
            "to a JSON file holding one, served until (or instead of) the network."
        ),
    )
    init_timeout: float = Field(
        default=5.0, ge=0, description="Seconds start() waits for the first definitions."
    )
    refresh_interval: float = Field(
        default=60.0,
        ge=0,
        description="Seconds between polls of the features endpoint; 0 disables.",
    )
    retry_interval: float = Field(
        default=1.0, gt=0, description="Seconds between fetch attempts while no definitions loaded."
    )
    http_timeout: float = Field(
        default=10.0,
        gt=0,
        description=(
            "Seconds a features download may take in all; the timeout of each event post "
            "and stream connection."
        ),
    )
    streaming_reconnect_delay: int = Field(
        default=5, ge=1, description="Seconds the SSE client waits before reconnecting."
    )
    events_batch_size: int = Field(
        default=100, ge=1, description="Events per POST to the ingestor."
    )
    events_flush_interval: float = Field(
        default=1.0, gt=0, description="Longest time an event waits before it is sent, in seconds."
    )
    events_max_queue: int = Field(
        default=10_000, ge=1, description="Events held in memory; beyond it new ones are dropped."
    )

    sticky_bucketing: bool = Field(
        default=True,
        description=(
            "With the client's sticky settings: GrowthBook's own sticky bucketing (bucket "
            "versions, blocked enrolment, fallback attributes) keeps its documents in "
            "flagport's sticky store. False: flagport's vendor-neutral stickiness instead."
        ),
    )
    sticky_bucket_identifier_attributes: list[str] | None = Field(
        default=None,
        description=(
            "Attributes whose sticky documents are loaded per user; None derives them from "
            "the experiment rules (hash and fallback attributes), as the SDK does."
        ),
    )

    @property
    def online(self) -> bool:
        """True when the provider fetches definitions from ``api_host``."""
        return not self.offline and self.client_key is not None

    def check(self) -> None:
        """Cross-option checks pydantic cannot express field by field.

        :raises ConfigurationError: naming each option in trouble and how to fix it.
        """
        problems: list[tuple[Location, str]] = []
        if self.offline and self.bootstrap is None:
            problems.append(
                (
                    Location("growthbook options", "bootstrap"),
                    "offline=true needs definitions: "
                    + _HOW_TO_SET.format(name="bootstrap", env="BOOTSTRAP")
                    + " (a path to a GrowthBook features JSON file, or the payload itself)",
                )
            )
        if not self.offline and self.client_key is None and self.bootstrap is None:
            problems.append(
                (
                    Location("growthbook options", "client_key"),
                    "client_key is required to fetch features from GrowthBook: "
                    + _HOW_TO_SET.format(name="client_key", env="CLIENT_KEY")
                    + "; or run without a network with offline=true and bootstrap=...",
                )
            )
        if self.streaming and not self.online:
            problems.append(
                (
                    Location("growthbook options", "streaming"),
                    "streaming=true needs a client_key and offline=false",
                )
            )
        if problems:
            raise ConfigurationError("invalid options for provider 'growthbook'", problems)

    def bootstrap_payload(self) -> Mapping[str, Any] | None:
        """The bootstrap payload, read from its file when ``bootstrap`` is a path.

        :raises ConfigurationError: the file is missing or is not a JSON object.
        """
        source = self.bootstrap
        if source is None or isinstance(source, Mapping):
            return source
        return read_json_object(
            source, what="growthbook bootstrap", option="bootstrap (FLAGPORT_GROWTHBOOK_BOOTSTRAP)"
        )[1]
