"""What one test forced, evaluated and logged, seen through flagport's observer hooks.

The :class:`Recorder` is registered with flagport's plugin manager for the whole
session, so it sees every client in the process (the fixture's, the process-wide one
and any the application builds), not only the fixture's. Between tests it records
nothing.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from flagport import Event, FlagNames, hookimpl

if TYPE_CHECKING:
    from flagport.results import Result
    from flagport.user import User

__all__ = ["Capture", "Recorder"]

#: ``kind`` as flagport's ``flagport_after_evaluation`` hook names it.
KINDS = ("gate", "experiment", "config")


@dataclass
class Capture:
    """One test's record.

    :ivar known: names from the known-flags file, when one is configured and the
        session is strict: an evaluation of any other name is recorded as unknown.
    :ivar events: custom events and exposures, in the order they were logged.
    :ivar forced: ``(kind, name)`` of every flag the test forced, in order.
    :ivar evaluated: ``(kind, name)`` of every flag evaluated during the test.
    :ivar unknown: ``(kind, name)`` evaluated but absent from :attr:`known`.
    """

    known: FlagNames | None = None
    events: list[Event] = field(default_factory=list)
    forced: dict[tuple[str, str], None] = field(default_factory=dict)
    evaluated: set[tuple[str, str]] = field(default_factory=set)
    unknown: dict[tuple[str, str], None] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def dead_overrides(self) -> list[tuple[str, str]]:
        """Flags forced but never evaluated, in the order they were forced."""
        return [key for key in self.forced if key not in self.evaluated]


class Recorder:
    """flagport hook implementations feeding the running test's :class:`Capture`."""

    def __init__(self) -> None:
        self.capture: Capture | None = None

    @hookimpl
    def flagport_after_evaluation(self, user: User, result: Result, kind: str) -> None:
        capture = self.capture
        if capture is None:
            return
        key = (kind, result.name)
        with capture.lock:
            capture.evaluated.add(key)
            known = capture.known
            if known is not None and result.name not in known.of(kind):
                capture.unknown[key] = None

    @hookimpl
    def flagport_on_event(self, event: Event) -> None:
        capture = self.capture
        if capture is not None:
            with capture.lock:
                capture.events.append(event)
