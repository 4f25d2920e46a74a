"""One client's ``on_change`` callbacks, run off the evaluation path.

A provider announces a change on whatever thread noticed it (a file watcher, a URL
poller, a vendor SDK's sync thread, or the caller's thread when a reload is asked for
by hand). The announcement only records the change and wakes this client's dispatcher,
a daemon thread started with the first change that has a callback to reach; the
callbacks run there, in the order they were registered, so a slow or failing callback
never holds up an evaluation or the provider's thread. A callback's exception is logged
with its traceback and swallowed.

Changes that arrive while callbacks run are merged per provider (their flags united),
so a provider reloading faster than the callbacks keep up holds one pending change, not
a growing queue. After :meth:`ChangeListeners.close` (the client's shutdown) nothing
fires; a forked child starts its own dispatcher with the callbacks it inherited.
"""

from __future__ import annotations

import itertools
import logging
import threading
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING

from flagport._fork import reset_in_child

if TYPE_CHECKING:
    from flagport.provider import DefinitionsChanged

__all__ = ["ChangeListeners", "ChangeSubscription", "changed_names"]

logger = logging.getLogger("flagport")

ChangeCallback = Callable[["DefinitionsChanged"], object]
_ABSENT = object()


def changed_names(old: Mapping[str, object], new: Mapping[str, object]) -> set[str]:
    """The names added, removed or given another definition between two mappings of
    name -> definition (definitions compared with ``==``), for a provider's
    :meth:`~flagport.Provider.announce_change`."""
    return {
        name for name in old.keys() | new.keys() if old.get(name, _ABSENT) != new.get(name, _ABSENT)
    }


class ChangeSubscription:
    """What :meth:`Flagport.on_change <flagport.Flagport.on_change>` returns: call
    :meth:`unsubscribe` to stop the callback."""

    __slots__ = ("_key", "_listeners")

    def __init__(self, listeners: ChangeListeners, key: int) -> None:
        self._listeners = listeners
        self._key = key

    def unsubscribe(self) -> None:
        """Stop calling the callback; a change being delivered may still reach it. Safe
        to call more than once."""
        self._listeners.remove(self._key)

    @property
    def active(self) -> bool:
        """Whether the callback is still called for later changes."""
        return self._listeners.has(self._key)

    def __repr__(self) -> str:
        return f"<ChangeSubscription {'active' if self.active else 'cancelled'}>"


class ChangeListeners:
    """The callbacks of one client and the thread that runs them."""

    def __init__(self) -> None:
        self._callbacks: dict[int, ChangeCallback] = {}
        self._keys = itertools.count()
        self._pending: dict[str, DefinitionsChanged] = {}
        self._wake = threading.Condition()
        self._thread: threading.Thread | None = None
        self.closed = False
        #: changes handed to the callbacks (merged changes count once)
        self.delivered = 0

    def subscribe(self, callback: ChangeCallback) -> ChangeSubscription:
        """Call ``callback(change)`` for every later change, until unsubscribed.

        :raises TypeError: ``callback`` is not callable.
        """
        if not callable(callback):
            raise TypeError(
                f"on_change takes a callable, got {type(callback).__name__}; pass a "
                "function that takes a flagport.DefinitionsChanged"
            )
        with self._wake:
            key = next(self._keys)
            if not self.closed:
                self._callbacks[key] = callback
        return ChangeSubscription(self, key)

    def remove(self, key: int) -> None:
        with self._wake:
            self._callbacks.pop(key, None)

    def has(self, key: int) -> bool:
        return key in self._callbacks

    def deliver(self, change: DefinitionsChanged) -> None:
        """Take a provider's announcement (the provider's listener): returns at once."""
        with self._wake:
            if self.closed or not self._callbacks:
                return
            self._pending[change.provider] = change.merged(self._pending.get(change.provider))
            if self._thread is None:
                reset_in_child(self, ChangeListeners._after_fork_in_child)
                self._thread = threading.Thread(
                    target=self._run, name="flagport-on-change", daemon=True
                )
                self._thread.start()
            self._wake.notify()

    def close(self) -> None:
        """Forget every callback and pending change; nothing fires after this."""
        with self._wake:
            self.closed = True
            self._callbacks.clear()
            self._pending.clear()
            self._wake.notify()

    def _run(self) -> None:
        wake = self._wake
        while True:
            with wake:
                while not self._pending and not self.closed:
                    wake.wait()
                if self.closed:
                    return
                changes = list(self._pending.values())
                self._pending.clear()
            for change in changes:
                self.delivered += 1
                for key in list(self._callbacks):
                    callback = self._callbacks.get(key)  # unsubscribed meanwhile: None
                    if callback is None or self.closed:
                        continue
                    try:
                        callback(change)
                    except Exception:
                        logger.exception(
                            "flagport: an on_change callback (%s) failed on a change of %s",
                            getattr(callback, "__qualname__", type(callback).__name__),
                            change.provider,
                        )

    def _after_fork_in_child(self) -> None:
        # Runs inside os.fork(): the parent's dispatcher does not exist here, and its
        # pending changes are the parent provider's.
        self._wake = threading.Condition()
        self._pending = {}
        self._thread = None
