"""Exposure de-duplication: at most one exposure per (unit, flag, group) per window."""

from __future__ import annotations

import threading
import time
from collections import OrderedDict

__all__ = ["ExposureDeduper"]


class ExposureDeduper:
    """Remembers recent exposures in a bounded LRU with a time window.

    :param window: seconds during which a repeat exposure is suppressed (0 disables
        de-duplication).
    :param max_keys: memory bound; the least recently seen keys are forgotten first.
    """

    def __init__(self, window: float = 3600.0, max_keys: int = 100_000) -> None:
        self.window = window
        self.max_keys = max_keys
        self._seen: OrderedDict[tuple[str, str, str], float] = OrderedDict()
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
            seen[key] = now
            seen.move_to_end(key)
            if len(seen) > self.max_keys:
                seen.popitem(last=False)
        return True

    def clear(self) -> None:
        with self._lock:
            self._seen.clear()

    def __len__(self) -> int:
        return len(self._seen)
