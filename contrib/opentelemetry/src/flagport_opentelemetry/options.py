"""The ``[opentelemetry]`` settings section (``FLAGPORT_OPENTELEMETRY=...``)."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator
from pydantic_core import PydanticCustomError

__all__ = ["OpenTelemetrySettings", "Volume"]

Volume = Literal["off", "all", "exposures"]
_OFF = {"", "0", "off", "false", "no", "none"}
_ALL = {"all", "every", "1", "on", "true", "yes"}


class OpenTelemetrySettings(BaseModel):
    """What flagport reports to OpenTelemetry. Off unless ``record`` says otherwise."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    record: Volume | Annotated[float, Field(gt=0, lt=1)] = Field(
        default="off",
        description=(
            "Which evaluations become feature_flag.evaluation events: 'off', 'all' (every "
            "evaluation), 'exposures' (only those logged as exposures), or a sample rate "
            "between 0 and 1 such as 0.01. FLAGPORT_OPENTELEMETRY sets it."
        ),
    )
    include_value: bool = Field(
        default=False,
        description=(
            "Add feature_flag.result.value (the served value, as JSON cut to 1,000 "
            "characters). Values can be personal data: opt in knowingly."
        ),
    )
    include_context_id: bool = Field(
        default=False,
        description="Add feature_flag.context.id (the user id). Personal data: opt in knowingly.",
    )
    set_id: str | None = Field(
        default=None,
        description="The feature_flag.set.id to report (a flag set name such as 'shop/prod').",
    )
    span_events: bool = Field(
        default=True, description="Add the event to the current span, when there is one."
    )
    log_events: bool = Field(
        default=True, description="Emit the event through the OpenTelemetry logs API."
    )
    metrics: bool = Field(
        default=True,
        description="Count evaluations and errors, and report the event pipeline's counters.",
    )

    @field_validator("record", mode="before")
    @classmethod
    def _volume(cls, value: Any) -> Any:
        # One switch for people and environment variables: words, or a sample rate.
        if isinstance(value, bool):
            return "all" if value else "off"
        if isinstance(value, str):
            text = value.strip().lower()
            if text in _OFF:
                return "off"
            if text in _ALL:
                return "all"
            if text == "exposures":
                return text
            try:
                value = float(text)
            except ValueError:
                raise PydanticCustomError(
                    "volume",
                    "{value} is not a volume: use 'off', 'all', 'exposures' or a sample rate "
                    "between 0 and 1 such as 0.01",
                    {"value": repr(value)},
                ) from None
        if isinstance(value, int | float):
            if value == 0:
                return "off"
            if value == 1:
                return "all"
        return value

    @property
    def enabled(self) -> bool:
        """Whether anything is recorded."""
        return self.record != "off"

    @property
    def sample_rate(self) -> float:
        """The share of evaluations recorded as events (1.0 for 'all' and 'exposures')."""
        return self.record if isinstance(self.record, float) else 1.0
