"""The events a client records: custom events, exposures and the provider's own.

Every event leaves here as a :class:`~flagport._records.Record`, built in
:meth:`ClientEvents.record` and handed to the event pipeline, which delivers it off
the request path. Exposures of assignments are logged at most once per request scope
and once per (unit, experiment, group) within the de-duplication window.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from flagport._records import Record
from flagport.events.exposures import ExposureDeduper
from flagport.events.kinds import EventKind, FlagKind
from flagport.events.pipeline import record_event
from flagport.reasons import Reason
from flagport.scope import current_scope
from flagport.user import User

if TYPE_CHECKING:
    from flagport._evaluation import Observers
    from flagport._provider_lifecycle import ProviderLifecycle
    from flagport.events.model import Event
    from flagport.events.pipeline import EventPipeline
    from flagport.events.settings import EventSettings
    from flagport.results import ExperimentResult, Result

__all__ = ["ClientEvents", "event_value"]

# Skips NamedTuple's generated ``__new__`` (a Python frame) on every event: the
# fields are always all given, in order, in the one place a record is built.
_new_record = tuple.__new__
_now = time.time


class ClientEvents:
    """Builds one client's event records and submits them to its pipeline.

    :ivar exposures: the exposures logged within the de-duplication window.
    :ivar exposures_logged: exposures recorded (automatic, manual and the provider's).
    """

    __slots__ = ("exposures", "exposures_logged", "lifecycle", "observers", "pipeline", "provider")

    def __init__(
        self,
        pipeline: EventPipeline,
        settings: EventSettings,
        lifecycle: ProviderLifecycle,
        observers: Observers,
    ) -> None:
        self.pipeline = pipeline
        self.lifecycle = lifecycle
        self.observers = observers
        self.provider = lifecycle.provider.name
        self.exposures = ExposureDeduper(settings.exposure_window, settings.exposure_max_keys)
        self.exposures_logged = 0

    def record(
        self,
        kind: EventKind,
        user: User,
        name: str,
        value: float | str | None,
        metadata: dict[str, Any],
        provider: str | None = None,
        flag_kind: FlagKind | None = None,
        group: str | None = None,
        rule_id: str | None = None,
        at: float | None = None,
    ) -> None:
        """Record an event now (or at ``at``) for the client's provider (or ``provider``)."""
        if not self.lifecycle.started:
            # Observers resolved at start see this event too; on an event loop's thread
            # the start only begins, in the background.
            self.lifecycle.start_soon()
        record = _new_record(
            Record,
            (
                _now() if at is None else at,
                kind,
                user,
                name,
                value,
                metadata,
                provider or self.provider,
                flag_kind,
                group,
                rule_id,
            ),
        )
        pipeline = self.pipeline
        entry = pipeline.prepare(record)  # cut to the event bounds, for observers too
        if self.observers.on_event is not None:
            self.observers.event(record_event(entry[0]))
        pipeline.submit(entry)

    def expose_assignment(self, user: User, result: ExperimentResult) -> None:
        """Log the exposure of an assignment, unless already logged in this scope or window."""
        if result.group is None or not (result.in_experiment or result.reason is Reason.OVERRIDE):
            return
        group = result.group
        active = current_scope()
        if (
            active is not None
            and active.user is user
            and not active.first_exposure(self, result.name, group)
        ):
            return
        if self.exposures.first_time(user.user_id or "", result.name, group):
            self.exposure(user, result, FlagKind.EXPERIMENT, group, {"reason": result.reason.value})

    def exposure(
        self,
        user: User,
        result: Result,
        flag_kind: FlagKind,
        group: str | None,
        metadata: dict[str, Any],
    ) -> None:
        """Record the exposure of ``result``, as given (not de-duplicated)."""
        self.exposures_logged += 1
        self.record(
            EventKind.EXPOSURE,
            user,
            result.name,
            None,
            metadata,
            result.provider,
            flag_kind,
            group,
            result.rule_id,
        )

    def emit(self, event: Event) -> None:
        """Accept an event a provider reported through a vendor callback."""
        if event.kind is EventKind.EXPOSURE:
            self.exposures_logged += 1
        self.record(
            event.kind,
            event.user,
            event.name,
            event.value,
            dict(event.metadata),
            event.provider,
            event.flag_kind,
            event.group,
            event.rule_id,
            event.time,
        )

    def after_fork_in_child(self) -> None:
        # The parent's lock may have been held at the fork: a new deduper, not a cleared one.
        self.exposures = ExposureDeduper(self.exposures.window, self.exposures.max_keys)
        self.pipeline.after_fork_in_child()


def event_value(value: object) -> float | str:
    """Numbers become floats (as every vendor stores them); anything else its string form.

    :raises TypeError: for a mapping or a collection, whose string form can be of any
        size (structured data belongs in the metadata).
    """
    if isinstance(value, int | float) and not isinstance(value, bool):
        return float(value)
    if isinstance(value, Mapping | list | tuple | set | frozenset):
        raise TypeError(
            f"an event value is a number or a str, got {type(value).__name__}; "
            "put structured data in metadata"
        )
    return str(value)
