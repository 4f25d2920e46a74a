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
import inspect
import threading
import weakref
from collections.abc import Callable, Hashable
from typing import Any, TypeVar, cast

__all__ = ["Budget", "Memo", "memoized"]

_K = TypeVar("_K", bound=Hashable)
_V = TypeVar("_V")
_F = TypeVar("_F", bound=Callable[..., Any])
_VARARGS = inspect.CO_VARARGS | inspect.CO_VARKEYWORDS


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
    ``max_entries`` of them; the memo is the wrapper's ``memo`` attribute.

    A hit is one dict lookup inside one Python call (a function of one argument is
    keyed by the argument itself, with no tuple built).
    """

    def decorate(function: _F) -> _F:
        memo: Memo[Any, Any] = Budget(max_entries).memo()
        code = getattr(function, "__code__", None)
        if code is not None and code.co_argcount == 1 and not code.co_flags & _VARARGS:

            def one(arg: Any) -> Any:
                try:
                    return memo[arg]
                except KeyError:
                    found = function(arg)
                    memo.put(arg, found)
                    return found

            wrapper: Callable[..., Any] = one
        else:

            def many(*args: Any) -> Any:
                try:
                    return memo[args]
                except KeyError:
                    found = function(*args)
                    memo.put(args, found)
                    return found

            wrapper = many
        functools.update_wrapper(wrapper, function)
        wrapper.memo = memo  # type: ignore[attr-defined]
        return cast(_F, wrapper)

    return decorate
