"""Vendor definitions -> flagport flags files.

Each module translates one vendor's payload, construct by construct, into the rules of
:mod:`flagport.providers.local` so that every unit keeps its gate answer, group and
value (checked against the vendors' real SDKs by differential tests). What cannot be
expressed is never dropped silently: it is listed in the :class:`Imported` report.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

__all__ = ["Imported", "LeftOut"]


@dataclass(frozen=True, slots=True)
class LeftOut:
    """A part of a vendor definition the flags file cannot express.

    :ivar flag: the vendor's flag (feature) key.
    :ivar where: the place inside the vendor's definition, e.g. ``rules[2].fallbackAttribute``.
    :ivar reason: why it was left out and what that changes.
    """

    flag: str
    where: str
    reason: str


@dataclass(slots=True)
class Imported:
    """The result of a translation: the flags file (as a mapping) and what was left out.

    :ivar origins: flag name -> what it was in the vendor's payload, where the section
        it is written to does not say (a Statsig layer written as a config).
    """

    flags: dict[str, Any] = field(default_factory=dict)
    left_out: list[LeftOut] = field(default_factory=list)
    origins: dict[str, str] = field(default_factory=dict)

    def leave_out(self, flag: str, where: str, reason: str) -> None:
        """Record a part that was not translated."""
        self.left_out.append(LeftOut(flag, where, reason))
