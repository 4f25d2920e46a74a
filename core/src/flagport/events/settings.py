"""Event settings: the ``[events]`` table of ``flagport.toml`` or ``events=`` in code."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, Self

from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, field_validator

from flagport.errors import shown

__all__ = ["EventSettings"]


class EventSettings(BaseModel):
    """Where events go and how they are batched."""

    # Built on first validation: a client without [events] settings takes the defaults.
    model_config = ConfigDict(
        extra="forbid", frozen=True, arbitrary_types_allowed=True, defer_build=True
    )

    sinks: list[str | Callable[..., Any]] = Field(
        default_factory=lambda: list[str | Callable[..., Any]](["provider"]),
        description=(
            "Sinks by name ('provider', 'jsonl', 'logging', or one a plugin registers), "
            "'module:function' for a callable taking one Event, or the callable itself; "
            "one string holds names separated by commas ('provider,jsonl'); each sink once."
        ),
    )

    jsonl_path: Path = Field(
        default=Path("flagport-events.jsonl"),
        description="File of the jsonl sink (a missing folder is made at the first write).",
    )
    logging_logger: str = Field(
        default="flagport.events", description="Logger of the logging sink."
    )
    logging_level: str = Field(default="INFO", description="Level of the logging sink's records.")
    max_queue: int = Field(
        default=100_000, ge=1, description="Events held per sink; beyond it new events are dropped."
    )
    max_queue_bytes: int = Field(
        default=64 * 1024 * 1024,
        ge=1,
        description=(
            "Estimated JSON bytes of the events held per sink (queued or being delivered); "
            "beyond it new events are dropped."
        ),
    )
    max_event_depth: int = Field(
        default=20,
        ge=1,
        description="Containers an event's metadata or user attributes may nest; deeper is cut.",
    )
    max_event_bytes: int = Field(
        default=64 * 1024,
        ge=256,
        description=(
            "Estimated JSON bytes of an event's metadata, and of its user's custom "
            "attributes; beyond it entries are cut."
        ),
    )
    shutdown_timeout: float = Field(
        default=5.0,
        ge=0,
        description=(
            "Seconds this client's events may take to be delivered at interpreter exit "
            "(and on SIGTERM with flagport.install_signal_handlers())."
        ),
    )
    batch_size: int = Field(default=1000, ge=1, description="Events delivered to a sink at a time.")
    flush_interval: float = Field(
        default=1.0, gt=0, description="Seconds between deliveries when the batch does not fill."
    )
    exposure_window: float = Field(
        default=3600.0,
        ge=0,
        description="Seconds a repeated (unit, flag, group) exposure is suppressed.",
    )
    exposure_max_keys: int = Field(
        default=100_000,
        ge=1,
        description="Exposures remembered for de-duplication (when full, all are forgotten).",
    )

    # Where each key was set (Settings.event_sources), for the errors of building a sink.
    _sources: dict[str, str] = PrivateAttr(default_factory=dict)

    def set_by(self, sources: Mapping[str, str]) -> Self:
        """Remember where each key was set (``environment FLAGPORT_EVENTS_SINKS``); returns
        these settings."""
        self._sources = dict(sources)
        return self

    def where(self, key: str) -> str:
        """Where ``key`` was set, for a message: ``[events] KEY`` when not known."""
        return self._sources.get(key) or f"[events] {key}"

    @field_validator("sinks", mode="before")
    @classmethod
    def _names_in_one_string(cls, value: Any) -> Any:
        # FLAGPORT_EVENTS_SINKS=provider,jsonl: what an environment variable holds.
        if isinstance(value, str):
            names = [name.strip() for name in value.split(",") if name.strip()]
            if not names:
                # A variable a template left empty: not "deliver events nowhere".
                raise ValueError(
                    f"{value!r} names no sink; give names separated by commas "
                    "('provider,jsonl'), or [] for no sinks at all"
                )
            return names
        return value

    @field_validator("sinks")
    @classmethod
    def _each_sink_once(
        cls, sinks: list[str | Callable[..., Any]]
    ) -> list[str | Callable[..., Any]]:
        # A sink listed twice gets every event twice (two lines per event in one file,
        # two vendor calls): never what was meant, so it is a mistake, not a silent merge.
        first: dict[object, int] = {}
        for index, spec in enumerate(sinks):
            seen = first.setdefault(_identity(spec), index)
            if seen != index:
                name = spec if isinstance(spec, str) else getattr(spec, "__qualname__", spec)
                raise ValueError(
                    f"sink {shown(name)} is listed twice (#{seen + 1} and #{index + 1}), so "
                    "each event would be delivered to it twice; list it once"
                )
        return sinks


def _identity(spec: str | Callable[..., Any]) -> object:
    """What makes two ``sinks`` entries the same sink: a name's text; a callable's own
    equality (``events.append`` taken twice is one method), or its identity when it
    has none."""
    if isinstance(spec, str):
        return spec
    try:
        hash(spec)
    except Exception:
        return ("callable", id(spec))
    return ("callable", spec)
