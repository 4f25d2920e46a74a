"""Sticky assignments: experiment groups that survive weight changes, re-targeting and
vendor moves, stored in memory, SQLite or Redis."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from flagport._exports import lazy_export

if TYPE_CHECKING:
    from flagport.sticky.store import Assignment, MemoryStore, StickyStore, Write

__all__ = ["Assignment", "MemoryStore", "StickyStore", "Write"]

# Imported on first use: compiling an experiment's sticky policy (flagport.sticky.policy)
# needs no store.
_LAZY = dict.fromkeys(__all__, "flagport.sticky.store")


def __getattr__(name: str) -> Any:
    return lazy_export(__name__, name, _LAZY)
