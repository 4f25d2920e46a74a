"""Sticky assignments: experiment groups that survive weight changes, re-targeting and
vendor moves, stored in memory, SQLite or Redis."""

from __future__ import annotations

from flagport.sticky.store import Assignment, MemoryStore, StickyStore, Write

__all__ = ["Assignment", "MemoryStore", "StickyStore", "Write"]
