"""Bounded memos: the one way flagport keeps a cache from growing without end.

A :class:`Memo` is a dict, so a hit is one ``dict.get``, the cheapest lookup Python has.
Its entries count against a :class:`Budget` it may share with other memos (entries,
and optionally estimated bytes); when a new entry would pass the budget, every memo of
the budget is emptied at once. That costs nothing on a hit, where least-recently-used
bookkeeping would reorder on every one, and a memo only saves work: emptied, it
recomputes the same answers.

Used for the local evaluator's hash outcomes (one budget for every compiled rule of
the process), parsed versions and split ranges (:func:`memoized`), a vendor's cached
results and exposure de-duplication.
"""

from __future__ import annotations

import functools
import threading
import weakref
from collections.abc import Callable, Hashable
from typing import Any, TypeVar, cast

__all__ = ["Budget", "Memo", "memoized"]

_K = TypeVar("_K", bound=Hashable)
_V = TypeVar("_V")
_F = TypeVar("_F", bound=Callable[..., Any])


class Memo(dict[_K, _V]):
    """Values by key, within the :class:`Budget` it was made by; read it as a dict.

    Compared and hashed by identity, so a budget can hold many equal (empty) ones.
    """

    __slots__ = ("__weakref__", "budget")
    __hash__ = object.__hash__  # type: ignore[assignment]

    def __init__(self, budget: Budget) -> None:
        super().__init__()
        self.budget = budget

    def __eq__(self, other: object) -> bool:
        return self is other

    def put(self, key: _K, value: _V, size: int = 0) -> None:
        """Remember ``value`` for ``key`` (see :meth:`Budget.put`)."""
        self.budget.put(self, key, value, size)


class Budget:
    """A bound on the entries (and estimated bytes) of a family of memos.

    Counts are updated without a lock: under contention one may drift by an entry,
    never by more than the threads racing, and every clear resets them.

    :param max_entries: entries held across all its memos before they are emptied.
    :param max_bytes: estimated bytes held before they are emptied (None: no bound); an
        entry larger than this alone is never held.
    """

    def __init__(self, max_entries: int, max_bytes: int | None = None) -> None:
        self.max_entries = max_entries
        self.max_bytes = max_bytes
        self.entries = 0
        self.bytes = 0
        #: how often the budget emptied its memos
        self.clears = 0
        self._memos: weakref.WeakSet[Memo[Any, Any]] = weakref.WeakSet()
        self._lock = threading.Lock()  # a memo may be made while another thread clears

    def memo(self) -> Memo[Any, Any]:
        """A new empty memo within this budget (held weakly: dropped, it is forgotten)."""
        memo: Memo[Any, Any] = Memo(self)
        with self._lock:
            self._memos.add(memo)
        return memo

    def memos(self) -> list[Memo[Any, Any]]:
        """The memos alive."""
        with self._lock:
            return list(self._memos)

    def put(self, memo: Memo[_K, _V], key: _K, value: _V, size: int = 0) -> None:
        """Remember ``value`` for ``key`` in ``memo``, emptying every memo first when the
        entry would pass the budget.

        :param size: the entry's estimated bytes (counted only with ``max_bytes``).
        """
        if key in memo:
            memo[key] = value
            return
        limit = self.max_bytes
        if limit is not None and size > limit:
            return
        if self.entries >= self.max_entries or (limit is not None and self.bytes + size > limit):
            self.clears += 1
            self.clear()
        memo[key] = value
        self.entries += 1
        self.bytes += size

    def clear(self) -> None:
        """Empty every memo of the budget."""
        with self._lock:
            memos = list(self._memos)
            self.entries = self.bytes = 0
        for memo in memos:
            memo.clear()

    def stats(self) -> dict[str, int]:
        """Entries held, their estimated bytes, and how often the budget emptied them."""
        return {"entries": self.entries, "bytes": self.bytes, "clears": self.clears}


def memoized(max_entries: int) -> Callable[[_F], _F]:
    """Remember a function's results by its (hashable) positional arguments, at most
    ``max_entries`` of them; the memo is the wrapper's ``memo`` attribute."""

    def decorate(function: _F) -> _F:
        memo: Memo[tuple[Any, ...], Any] = Budget(max_entries).memo()
        missing = object()

        @functools.wraps(function)
        def wrapper(*args: Any) -> Any:
            found = memo.get(args, missing)
            if found is missing:
                found = function(*args)
                memo.put(args, found)
            return found

        wrapper.memo = memo  # type: ignore[attr-defined]
        return cast(_F, wrapper)

    return decorate
