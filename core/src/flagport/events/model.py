"""The one event model: a custom event or an exposure."""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_serializer

from flagport._field_defaults import new_dict
from flagport.events.kinds import EventKind, FlagKind
from flagport.user import User

__all__ = ["Event", "EventKind", "FlagKind"]


class Event(BaseModel):
    """Something that happened to a user: a custom event or an exposure.

    The user's ``private`` attributes are never serialised.
    """

    # Built on first use: a process that only checks gates never validates an event.
    model_config = ConfigDict(frozen=True, extra="forbid", defer_build=True)

    kind: EventKind = EventKind.CUSTOM
    name: str = Field(description="Event name; for exposures, the flag name.")
    user: User
    value: float | str | None = None
    metadata: Mapping[str, Any] = Field(default_factory=new_dict)
    # A lambda, not time.time: see flagport._field_defaults.
    time: float = Field(default_factory=lambda: time.time(), description="Unix time in seconds.")
    provider: str | None = None
    flag_kind: FlagKind | None = None
    group: str | None = Field(
        default=None, description="Experiment group or gate value of an exposure."
    )
    rule_id: str | None = None

    @field_serializer("user")
    def _public_user(self, user: User) -> dict[str, Any]:
        return user.to_event_dict()
