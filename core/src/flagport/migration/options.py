"""Options of the ``migration`` provider, and the run-time control file's model."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator

from flagport._redact import MaskedDict
from flagport.provider import ProviderOptions
from flagport.settings_files import PathOption, ProviderTable

__all__ = ["ControlFile", "MigrationOptions", "Stage"]


class Stage(StrEnum):
    """Where a flag is in its migration.

    ``from`` and ``to`` use one provider; ``shadow`` and ``live`` evaluate both and
    compare. With a ramp, ``shadow`` and ``live`` are the two ends of one scale: the
    ramp says which share of units the new provider serves.
    """

    FROM = "from"
    """Serve the old provider only."""
    SHADOW = "shadow"
    """Serve the old provider, evaluate the new one and compare."""
    LIVE = "live"
    """Serve the new provider, evaluate the old one and compare."""
    TO = "to"
    """Serve the new provider only."""


def _inner(value: Any, side: str) -> dict[str, Any]:
    if not isinstance(value, dict) or not isinstance(value.get("provider"), str):
        raise ValueError(
            f"{side!r} must be a table naming its provider and that provider's options, "
            f"e.g. {{provider = 'statsig', server_secret = '...'}}"
        )
    if value["provider"] == "migration":
        raise ValueError(f"{side!r} cannot itself be a migration provider")
    return value


def _check_ramp(value: dict[str, float]) -> dict[str, float]:
    for flag, pct in value.items():
        if not 0.0 <= pct <= 100.0:
            raise ValueError(f"ramp for {flag!r} is {pct}; use a percentage from 0 to 100")
    return value


class _Control(BaseModel):
    """The settings that may change while the provider runs."""

    stage: Stage = Field(
        default=Stage.FROM, description="The stage of every flag not listed in 'stages'."
    )
    stages: dict[str, Stage] = Field(
        default_factory=dict, description="Stage per flag name, overriding 'stage'."
    )
    ramp: dict[str, float] = Field(
        default_factory=dict,
        description=(
            "Per flag, the percentage (0-100) of units the new provider serves while the "
            "flag is in 'shadow' or 'live' (defaults: 0 in shadow, 100 in live). "
            "Deterministic per unit, so a user does not flip back and forth."
        ),
    )
    sample_rate: float = Field(
        default=1.0,
        ge=0.0,
        le=1.0,
        description=(
            "Share of evaluations compared (0-1). Below 1, evaluations are compared in "
            "time windows covering this share of every 'sample_period_s', at random "
            "offsets; outside them the served provider is called directly."
        ),
    )

    @field_validator("ramp")
    @classmethod
    def _percentages(cls, value: dict[str, float]) -> dict[str, float]:
        return _check_ramp(value)


class ControlFile(BaseModel):
    """The control file: a subset of the options, re-read while the provider runs.

    Keys present in the file replace the options of the same name.
    """

    model_config = ConfigDict(extra="forbid")

    stage: Stage | None = None
    stages: dict[str, Stage] | None = None
    ramp: dict[str, float] | None = None
    sample_rate: float | None = Field(default=None, ge=0.0, le=1.0)

    @field_validator("ramp")
    @classmethod
    def _percentages(cls, value: dict[str, float] | None) -> dict[str, float] | None:
        return None if value is None else _check_ramp(value)


class MigrationOptions(_Control, ProviderOptions):
    """Options of the ``migration`` provider.

    ``from`` and ``to`` are written with those names (``from`` is a Python keyword,
    so the attribute is ``from_``).
    """

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    from_: Annotated[dict[str, Any], ProviderTable()] = Field(
        alias="from",
        description="The old provider: {provider = NAME, ...its options}.",
    )
    to: Annotated[dict[str, Any], ProviderTable()] = Field(
        description="The new provider: {provider = NAME, ...its options}."
    )
    group_map: dict[str, dict[str, str]] = Field(
        default_factory=dict,
        description=(
            "Per experiment, old group name -> new group name, when the vendors name "
            "groups differently."
        ),
    )
    secondary_timeout_ms: float = Field(
        default=20.0,
        gt=0,
        description=(
            "How long a run of secondary (compared, not served) evaluations on a "
            "caller's thread may delay an answer; in 'auto' mode, a secondary slower "
            "than this per evaluation is moved off the request path."
        ),
    )
    secondary_mode: Literal["auto", "offload", "inline"] = Field(
        default="auto",
        description=(
            "'auto' evaluates the secondary on a worker thread until it has proven "
            "fast, then on the callers' threads in batches of 'batch_size' (the "
            "cheapest), and back on the worker when it gets slow; 'offload' always on "
            "the worker (the answer never waits for it); 'inline' on the caller's "
            "thread at once (evidence complete when the call returns)."
        ),
    )
    batch_size: int = Field(
        default=128,
        ge=1,
        le=4096,
        description="In 'auto' mode, how many comparisons a caller's thread evaluates in one run.",
    )
    sample_period_s: float = Field(
        default=1.0,
        gt=0,
        le=3600,
        description="With a sample_rate below 1, the period in which one comparison window opens.",
    )
    secondary_cooldown_s: float = Field(
        default=30.0, ge=0, description="In 'auto' mode, how long a slow secondary stays offloaded."
    )
    offload_queue: int = Field(
        default=1024,
        ge=1,
        description="Comparisons waiting to be evaluated (per kind and side); beyond it "
        "they are skipped and counted as dropped.",
    )
    mismatch_log: Annotated[str | None, PathOption()] = Field(
        default=None, description="Path of a JSON-lines log of mismatches (units hashed)."
    )
    mismatch_log_max_bytes: int = Field(
        default=10_000_000,
        ge=10_000,
        description="Size bound of the log and its one rotated copy together.",
    )
    summary_interval_s: float = Field(
        default=60.0,
        gt=0,
        description="How often the evidence so far is added to the mismatch log (and at "
        "flush and shutdown).",
    )
    hash_salt: SecretStr = Field(
        default=SecretStr("flagport-migration"),
        description="Secret mixed into unit hashes in the log and the mismatch hook.",
    )
    ramp_unit: str = Field(
        default="user_id",
        description="The unit ramps are decided by: 'user_id' or a custom_ids key.",
    )
    control_file: Annotated[str | None, PathOption()] = Field(
        default=None,
        description=(
            "A TOML, JSON or YAML file with stage/stages/ramp/sample_rate, re-read when it "
            "changes, so stages move without a restart."
        ),
    )
    control_poll_s: float = Field(
        default=1.0,
        ge=0,
        description="How often the control file is checked (0: only on reload()).",
    )

    @field_validator("from_", mode="before")
    @classmethod
    def _from(cls, value: Any) -> dict[str, Any]:
        return _inner(value, "from")

    @field_validator("to", mode="before")
    @classmethod
    def _to(cls, value: Any) -> dict[str, Any]:
        return _inner(value, "to")

    @field_validator("from_", "to", mode="after")
    @classmethod
    def _masked(cls, value: dict[str, Any]) -> dict[str, Any]:
        # The inner providers' options hold their secrets: printing a side masks them.
        return MaskedDict(value)

    def control(self) -> dict[str, Any]:
        """The run-time-changeable settings, as a plain dict."""
        return {
            "stage": self.stage,
            "stages": dict(self.stages),
            "ramp": dict(self.ramp),
            "sample_rate": self.sample_rate,
        }
