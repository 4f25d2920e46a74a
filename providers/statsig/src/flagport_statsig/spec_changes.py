"""Which of the SDK's ``specs_updated`` events the statsig provider announces as a
change, and the flags each one changes.

What the provider serves when ``start()`` returns is what the application starts with:
an update within the start (the SDK runs ``specs_updated`` before its initialisation
resolves) is not a change. Every later update is, and when the start loaded nothing
(the application was served defaults) the first one changes every flag it defines.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable
from typing import Any

from flagport._changes import changed_names

__all__ = ["SpecsChanges", "changed_specs"]

Specs = dict[str, Any]


class SpecsChanges:
    """The specs one provider served last, and whether its start returned.

    :param announce: the provider's :meth:`~flagport.Provider.announce_change`.
    """

    def __init__(self, announce: Callable[[Iterable[str] | None], None]) -> None:
        self._announce = announce
        self._lock = threading.Lock()
        self._specs: Specs | None = None
        self._started = False

    def started(self) -> None:
        """Called as ``start()`` ends: later updates are changes."""
        with self._lock:
            self._started = True
            if self._specs is None:
                self._specs = {}  # nothing loaded: the next specs change every flag

    def updated(self, specs: Specs | None) -> None:
        """Called with each update's specs (``None`` when it carried none)."""
        with self._lock:
            previous, self._specs = self._specs, specs
            started = self._started
        if started:
            self._announce(changed_specs(previous, specs))


def changed_specs(old: Specs | None, new: Specs | None) -> set[str] | None:
    """The gates, configs, experiments and layers whose specs differ (a changed condition
    has a new key in ``condition_map``, so the specs using it differ too); ``None`` when
    an update did not carry its specs."""
    if old is None or new is None:
        return None
    changed: set[str] = set()
    for section in ("feature_gates", "dynamic_configs", "layer_configs"):
        before, after = old.get(section) or {}, new.get(section) or {}
        if not isinstance(before, dict) or not isinstance(after, dict):
            return None
        changed |= changed_names(before, after)
    return changed
