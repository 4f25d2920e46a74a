"""Exposure de-duplication: at most one exposure per (unit, flag, group) per window."""

from __future__ import annotations

import threading
import time

from flagport._memos import Budget

__all__ = ["ExposureDeduper"]


class ExposureDeduper:
    """Remembers recent exposures, within a time window and a bounded memo.

    :param window: seconds during which a repeat exposure is suppressed (0 disables
        de-duplication).
    :param max_keys: memory bound; past it every exposure is forgotten at once (see
        :mod:`flagport._memos`), so a repeat may be logged once more.
    """

    def __init__(self, window: float = 3600.0, max_keys: int = 100_000) -> None:
        self.window = window
        self.max_keys = max_keys
        self._seen = Budget(max_keys).memo()
        self._lock = threading.Lock()

    def first_time(self, unit: str, flag: str, group: str) -> bool:
        """True if this exposure was not seen within the window (and record it)."""
        if self.window <= 0:
            return True
        key = (unit, flag, group)
        now = time.monotonic()
        seen = self._seen
        with self._lock:
            last = seen.get(key)
            if last is not None and now - last < self.window:
                return False
            seen.put(key, now)
        return True

    def clear(self) -> None:
        with self._lock:
            self._seen.budget.clear()

    def __len__(self) -> int:
        return len(self._seen)
