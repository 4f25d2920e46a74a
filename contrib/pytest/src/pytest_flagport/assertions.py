"""Matching captured events, and failure messages that show what was logged instead."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from flagport import Event, EventKind

__all__ = ["MISSING", "describe_event", "find_events", "mismatch_message"]

#: Stands for "not given" where ``None`` is a value one may want to match.
MISSING: Any = type("Missing", (), {"__repr__": lambda self: "MISSING"})()
_SHOWN = 20


def _matches(event: Event, criteria: Mapping[str, Any]) -> bool:
    for key, expected in criteria.items():
        if key == "metadata":
            meta = event.metadata
            if any(k not in meta or v != meta[k] for k, v in expected.items()):
                return False
        elif key == "user_id":
            if event.user.user_id != expected:
                return False
        # Expected on the left, so that pytest.approx(9.99) works for values.
        elif expected != getattr(event, key):
            return False
    return True


def find_events(
    events: Sequence[Event], kind: EventKind, name: str, criteria: Mapping[str, Any]
) -> list[Event]:
    """The events of ``kind`` named ``name`` meeting every criterion.

    :param criteria: attribute -> expected value; ``metadata`` matches when the event's
        metadata contains those keys with those values; ``user_id`` is the user's id.
    """
    return [e for e in events if e.kind is kind and e.name == name and _matches(e, criteria)]


def describe_event(event: Event) -> str:
    """One line per event, as failure messages list them."""
    parts = [repr(event.name)]
    if event.kind is EventKind.EXPOSURE:
        parts.append(f"group={event.group!r}")
        if event.flag_kind is not None:
            parts.append(f"flag_kind={event.flag_kind.value}")
    else:
        parts.append(f"value={event.value!r}")
        parts.append(f"metadata={dict(event.metadata)!r}")
    parts.append(f"user_id={event.user.user_id!r}")
    return " ".join(parts)


def _wanted(kind: EventKind, name: str, criteria: Mapping[str, Any]) -> str:
    what = "exposure" if kind is EventKind.EXPOSURE else "custom event"
    shown = []
    for key, value in criteria.items():
        if key == "metadata":
            shown.append(f"metadata containing {dict(value)!r}")
        else:
            shown.append(f"{key}={value!r}")
    return f"{what} {name!r}" + (f" with {', '.join(shown)}" if shown else "")


def mismatch_message(
    events: Sequence[Event],
    kind: EventKind,
    name: str,
    criteria: Mapping[str, Any],
    *,
    found: int,
    times: int | None,
) -> str:
    """Why an event assertion failed, with every event of that kind that was logged."""
    wanted = _wanted(kind, name, criteria)
    if times is None or found == 0:
        head = f"no {wanted} was logged"
    else:
        head = f"{wanted} was logged {found} time(s), expected {times}"
    same_kind = [e for e in events if e.kind is kind]
    label = "exposures" if kind is EventKind.EXPOSURE else "custom events"
    if not same_kind:
        return f"{head}; no {label} were logged at all"
    # Events of the same name first: they are the likely near misses.
    ordered = sorted(same_kind, key=lambda e: e.name != name)
    lines = [f"{head}", f"{label} logged ({len(same_kind)}):"]
    lines += [f"  {describe_event(e)}" for e in ordered[:_SHOWN]]
    if len(ordered) > _SHOWN:
        lines.append(f"  ... and {len(ordered) - _SHOWN} more")
    return "\n".join(lines)
