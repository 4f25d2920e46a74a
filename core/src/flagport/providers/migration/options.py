"""Options of the ``migration`` provider, the run-time control file's model, and building
each side from its options."""

from __future__ import annotations

import warnings
from collections.abc import Mapping
from enum import StrEnum
from typing import TYPE_CHECKING, Annotated, Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    SecretStr,
    field_validator,
    model_validator,
)

from flagport.errors import ConfigurationError, Location
from flagport.plugins import get_provider_class
from flagport.provider import ProviderOptions
from flagport.settings import ALL_OPTIONS, validate_options
from flagport.settings_files import PathOption, ProviderTable

if TYPE_CHECKING:
    from flagport.provider import Provider

__all__ = [
    "NEW",
    "OLD",
    "REMOVED_OPTIONS",
    "ControlFile",
    "MigrationOptions",
    "Side",
    "Stage",
    "build_side",
]


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


class Side(StrEnum):
    """One of the two providers of a migration.

    In code the sides are *old* and *new*; their values are the names users see: the
    option keys, and the keys of statistics and of the mismatch log.
    """

    OLD = "from"
    """The provider being left (option ``from``)."""
    NEW = "to"
    """The provider being moved to (option ``to``)."""


OLD, NEW = Side.OLD, Side.NEW
"""The sides as plain names: on Python 3.11 reading a member from its enum class costs
a few hundred nanoseconds, as much as the rest of a comparison's bookkeeping."""


REMOVED_OPTIONS = {
    "secondary_mode": "use compare_on = 'worker' (was 'auto' or 'offload') or 'caller' "
    "(was 'inline')",
    "batch_size": "comparisons are no longer batched; remove it",
    "sample_period_s": "sample_rate is drawn per evaluation; remove it",
    "offload_queue": "the worker's queue has a fixed bound; remove it",
    "secondary_cooldown_s": "a slow secondary now moves to the worker for good; remove it",
}
"""Options of earlier versions, with what to do instead (see docs/migration.md)."""


def _removed(options: Any) -> Any:
    """Drop the options of :data:`REMOVED_OPTIONS` with a warning; map ``secondary_mode``."""
    if not isinstance(options, dict) or not REMOVED_OPTIONS.keys() & options.keys():
        return options
    options = dict(options)
    for key in REMOVED_OPTIONS.keys() & options.keys():
        value = options.pop(key)
        warnings.warn(
            f"migration option {key!r} was removed: {REMOVED_OPTIONS[key]}",
            DeprecationWarning,
            stacklevel=2,
        )
        if key == "secondary_mode" and "compare_on" not in options:
            options["compare_on"] = "caller" if value == "inline" else "worker"
    return options


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
        description=("Share of evaluations compared (0-1), drawn at random per evaluation."),
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
    compare_on: Literal["worker", "caller"] = Field(
        default="worker",
        description=(
            "Where the compared (not served) provider is evaluated: 'worker', one thread "
            "of the provider's (the answer never waits for it), or 'caller', the calling "
            "thread right after the served evaluation (evidence is complete when the call "
            "returns; the answer waits for it)."
        ),
    )
    secondary_timeout_ms: float = Field(
        default=20.0,
        gt=0,
        description=(
            "With compare_on = 'caller', how long a compared evaluation may delay an "
            "answer: two in a row over it move comparisons to the worker for good."
        ),
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

    @model_validator(mode="before")
    @classmethod
    def _renamed(cls, options: Any) -> Any:
        return _removed(options)

    @field_validator("from_", mode="before")
    @classmethod
    def _from(cls, value: Any) -> dict[str, Any]:
        return _inner(value, "from")

    @field_validator("to", mode="before")
    @classmethod
    def _to(cls, value: Any) -> dict[str, Any]:
        return _inner(value, "to")


def build_side(side: Side | str, spec: Mapping[str, Any]) -> Provider:
    """Build one side of a migration from ``{"provider": NAME, ...options}``.

    :param side: which one (or its name), for error locations (``migration.from.x``).
    :raises ConfigurationError: unknown provider or bad options, located.
    """
    options = dict(spec)
    name = options.pop("provider")
    key = Side(side).value
    prefix, where = f"migration.{key}", f"migration option {key!r}"
    try:
        cls = get_provider_class(name)
        validated = validate_options(
            cls.Options,
            options,
            {**dict.fromkeys(options, where), ALL_OPTIONS: where},
            f"provider {name!r} (the migration's {key!r} side)",
        )
    except ConfigurationError as exc:
        problems = [
            (Location(loc.source, f"{prefix}.{loc.path}" if loc.path else prefix, loc.line), text)
            for loc, text in exc.problems
        ] or [(Location(where, f"{prefix}.provider"), str(exc))]
        raise ConfigurationError(
            f"invalid {key!r} provider {name!r} of the migration provider", problems
        ) from None
    return cls(validated)
