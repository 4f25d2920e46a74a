"""Time conditions: ``$before``, ``$after`` and ``$on`` (Statsig's rules).

A time is epoch milliseconds, or epoch seconds when its magnitude is below 10^10
(Statsig's guess), or an RFC 3339 string (``2026-01-02T00:00:00Z``, at most 20
characters, as Statsig's SDK parses) or ``YYYY-MM-DD HH:MM:SS`` in UTC. ``$on`` holds
when both fall on the same UTC day. The pseudo-attribute ``$now`` is the current time
(the user's ``now``, else the wall clock).
"""

from __future__ import annotations

import re
import time
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from flagport.providers.local.conditions.options import ConditionError
from flagport.providers.local.conditions.statsig import statsig_number

if TYPE_CHECKING:
    from flagport.providers.local.conditions.values import Predicate
    from flagport.user import User

__all__ = ["now_millis", "parse_time", "time_test"]

_DAY_MS = 86_400_000
_I64 = 2**63
_RFC3339 = re.compile(
    r"\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:[Zz]|[+-]\d{2}:\d{2})", re.ASCII
)
_PLAIN = re.compile(r"\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}", re.ASCII)
_INTEGER = re.compile(r"[+-]?\d+", re.ASCII)


def _to_millis(ts: int) -> int:
    return ts * 1000 if abs(ts) < 10_000_000_000 else ts


def _parse_text(text: str, *, bounded: bool = True) -> int | None:
    if _INTEGER.fullmatch(text):
        number = int(text)
        return number if -_I64 <= number < _I64 else None
    if bounded and (not 8 <= len(text) <= 20 or not any(c in text for c in "-T:")):
        return None  # Statsig's shortcut for a user's value (not for a condition's)
    try:
        if _RFC3339.fullmatch(text):
            return int(datetime.fromisoformat(text.upper()).timestamp() * 1000)
        if _PLAIN.fullmatch(text):
            moment = datetime.strptime(text, "%Y-%m-%d %H:%M:%S").replace(tzinfo=UTC)
            return int(moment.timestamp() * 1000)
    except ValueError:
        return None
    return None


def parse_time(value: Any) -> int | None:
    """An attribute's value as epoch milliseconds, or None when it is not a time."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return _to_millis(value) if -_I64 <= value < _I64 else None
    if isinstance(value, float):
        whole = int(value) if value == value and abs(value) < 2**63 else None
        return _to_millis(whole) if whole is not None and whole == value else None
    if isinstance(value, str):
        found = _parse_text(value)
        return None if found is None else _to_millis(found)
    return None


def _target(arg: Any) -> int | None:
    # The condition's side is not scaled from seconds (Statsig does not scale it).
    if isinstance(arg, bool):
        return None
    if isinstance(arg, int | float):
        return int(arg) if arg == arg and abs(arg) < 2**63 else None
    if isinstance(arg, str):
        found = _parse_text(arg, bounded=False)
        if found is not None:
            return found
        try:
            number = statsig_number(arg)
            return int(number) if number is not None else None
        except (ValueError, OverflowError):
            return None
    return None


def _day(ms: int) -> int:
    return abs(ms) // _DAY_MS * (1 if ms >= 0 else -1)  # toward zero, as chrono does


def time_test(op: str, arg: Any, path: str) -> Predicate:
    """Compile ``$before``/``$after``/``$on`` against a time."""
    target = _target(arg)
    if target is None:
        raise ConditionError(
            path,
            f"{op} takes a time: epoch milliseconds or an RFC 3339 string such as "
            f'"2026-01-02T00:00:00Z", got {arg!r}',
        )
    if op == "$on":
        day = _day(target)
        return lambda v: (t := parse_time(v)) is not None and _day(t) == day
    if op == "$before":
        return lambda v: (t := parse_time(v)) is not None and t < target
    return lambda v: (t := parse_time(v)) is not None and t > target


def now_millis(user: User) -> int:
    """The current time of an evaluation, in epoch milliseconds."""
    now = getattr(user, "now", None)
    if now is None:
        return time.time_ns() // 1_000_000
    return int(now.timestamp() * 1000)
