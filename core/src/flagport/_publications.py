"""Which definitions a provider publishes are a change: the rule, implemented once.

What a provider serves when its client starts answering from it is what the application
starts with, not a change; every version published after that moment is one. When nothing
was published before it (the start found no definitions: the application is served
defaults), the first definitions published after it are a change naming every flag.

The moment is marked by whoever owns the provider: the client's provider lifecycle, right
after ``start()`` returned and before the first evaluation reaches the provider, or a
composite provider for its parts. A provider nobody attached (driven by hand: ``start()``,
then ``reload()``) is marked when its ``start()`` returns: :class:`~flagport.Provider`
wraps every subclass's ``start`` for that, so no provider has to remember to; a start
after a shutdown starts afresh. A publication runs the provider's swap under the same
lock as the mark, so a swap is either before the mark (what the application starts
with) or after it (announced): never announced for a version the application started
with, never dropped after it.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING

from flagport._fork import reset_in_child

if TYPE_CHECKING:
    from flagport.provider import FlagNames

__all__ = ["Publications"]

Swap = Callable[[], "Iterable[str] | None"]


class Publications:
    """One provider's publications, and whether its client serves it yet."""

    __slots__ = ("__weakref__", "_found", "_lock", "_owned", "_serving", "_starts")

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._owned = False  # an owner marks the moment (not the end of start())
        self._serving = False  # that moment passed: publications are changes
        self._found = False  # something was published before it
        self._starts = 0  # start() calls running (an override calling super().start())

    def own(self) -> None:
        """An owner (a client, a composite provider) marks the moment from now on."""
        with self._lock:
            self._owned, self._serving, self._found = True, False, False

    def disown(self) -> None:
        """The owner let go: nothing is served until the provider is started again."""
        with self._lock:
            self._owned, self._serving, self._found = False, False, False

    def mark(self) -> None:
        """The moment the provider is served: what it published so far is the base."""
        with self._lock:
            self._serving = True

    def publish(self, swap: Swap, names: Callable[[], FlagNames]) -> frozenset[str] | None:
        """Run ``swap`` (it serves new definitions and returns the flags changed, or
        ``None`` when unknown) and return the flags to announce: none before the moment,
        every flag of ``names()`` for the first definitions after a start that found none."""
        with self._lock:
            changed = swap()
            if not self._serving:
                self._found = True
                return frozenset()
            if not self._found:
                self._found = True
                every = names()
                return every.gates | every.experiments | every.configs
        return None if changed is None else frozenset(changed)

    def entering_start(self, restart: bool) -> None:
        """``start()`` begins; ``restart``: it begins after a shutdown."""
        reset_in_child(self, Publications._after_fork_in_child)
        with self._lock:
            self._starts += 1
            if self._starts == 1 and restart and not self._owned:
                self._serving = self._found = False

    def leaving_start(self) -> bool:
        """``start()`` ended (returned or raised): whether it marks the moment, as it does
        for a provider nobody owns."""
        with self._lock:
            self._starts = max(0, self._starts - 1)
            return self._starts == 0 and not self._owned

    def _after_fork_in_child(self) -> None:
        # Runs inside os.fork(): a parent's thread may have held the lock. A new start in
        # the child is a first start.
        self._lock = threading.Lock()
        self._serving = self._found = False
        self._starts = 0
