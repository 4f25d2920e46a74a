"""What an event records, and the kind of flag an exposure is about.

Apart from :mod:`flagport.events.model` so that recording events needs no pydantic
model: the :class:`~flagport.Event` model is built when an event object is first made
(for an observer, a sink that takes models, or a provider's own event), not with the
client.
"""

from __future__ import annotations

from enum import StrEnum

__all__ = ["EventKind", "FlagKind"]


class EventKind(StrEnum):
    """What an event records."""

    CUSTOM = "custom"
    EXPOSURE = "exposure"


class FlagKind(StrEnum):
    """The kind of flag an exposure is about."""

    GATE = "gate"
    EXPERIMENT = "experiment"
    CONFIG = "config"
