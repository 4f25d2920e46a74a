"""Which definitions a provider publishes are a change: the rule, implemented once.

What a provider serves when its client starts answering from it is what the application
starts with, not a change; every version published after that moment is one. When nothing
was published before it (the start found no definitions: the application is served
defaults), the first definitions published after it are a change naming every flag.

The moment is marked by whoever answers from the provider, and only by them: the client's
provider lifecycle, right after ``start()`` returned and before the first evaluation
reaches the provider; a composite provider for its parts; code that drives a provider by
hand (``start()``, then :meth:`~flagport.Provider.mark_serving`). A provider's own
``start()`` marks nothing, so a plugin author has nothing to remember. Definitions
published before an owner attached the provider (a start by hand) stay what it serves:
the owner's mark takes them as the base, and a later version names only what changed.
When the owner lets go (``detach()``), a later start is a first start again. A
publication runs the provider's swap under the same lock as the mark, so a swap is
either before the mark (what the application starts with) or after it (announced):
never announced for a version the application started with, never dropped after it.
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
    """One provider's publications, and whether it is served yet."""

    __slots__ = ("__weakref__", "_found", "_lock", "_serving")

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._serving = False  # the moment passed: publications are changes
        self._found = False  # something was published before it

    def own(self) -> None:
        """An owner (a client, a composite provider) took the provider: it marks the moment
        from now on. What the provider published already is what it serves."""
        with self._lock:
            self._serving = False

    def disown(self) -> None:
        """The owner let go: nothing is served, and a later start is a first start."""
        with self._lock:
            self._serving = self._found = False

    def mark(self) -> None:
        """The moment the provider is served: what it published so far is the base."""
        # Here, not at construction (which must stay cheap): a served provider's threads
        # publish, and one of them may hold the lock at a fork.
        reset_in_child(self, Publications._after_fork_in_child)
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

    def _after_fork_in_child(self) -> None:
        # Runs inside os.fork(): a parent's thread may have held the lock. A new start in
        # the child is a first start.
        self._lock = threading.Lock()
        self._serving = self._found = False
