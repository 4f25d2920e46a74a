"""The record of an event on its way from the client to the event pipeline.

A tuple rather than an :class:`~flagport.Event` model: building a pydantic model per
event would cost more than the rest of ``log_event``. The sinks' workers turn records
into events or JSON-ready data off the request path.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, NamedTuple

if TYPE_CHECKING:
    from flagport.events.kinds import EventKind, FlagKind
    from flagport.user import User

__all__ = ["Record"]


class Record(NamedTuple):
    """One event, as :class:`flagport.events.pipeline.EventPipeline` takes it.

    Built in one place, :meth:`flagport._client_events.ClientEvents.record`; the
    pipeline's bounds may replace its user, name, value and metadata by bounded copies.
    """

    time: float
    kind: EventKind
    user: User
    name: str
    value: float | str | None
    metadata: dict[str, Any]
    provider: str | None
    flag_kind: FlagKind | None
    group: str | None
    rule_id: str | None
