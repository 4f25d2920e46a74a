"""What must react in a forked child registers here, with one fork hook for the process.

flagport's contract for ``fork()`` (gunicorn, celery prefork, ``multiprocessing``): a
forked child's client rebuilds its provider on first use (:mod:`flagport._lifecycle`
resets every live client), so a provider compares no process ids. What must still
react in the child registers a reset here: a lock a parent's thread may have held, a
vendor SDK object whose threads did not survive the fork, a note that the parent was
watching files.

Resets run inside ``os.fork()`` in the child, in the order they were registered. Each
must only assign (never wait for a lock another thread may hold, never do I/O); one
that fails is logged and the others still run.
"""

from __future__ import annotations

import logging
import os
import threading
import weakref
from collections.abc import Callable
from typing import Any, TypeVar

__all__ = ["in_child", "reset_in_child"]

logger = logging.getLogger("flagport")

_T = TypeVar("_T")
# (the owner, held weakly, or None for a plain function; the reset)
_Reset = tuple["weakref.ref[Any] | None", Callable[..., object]]

_resets: list[_Reset] = []
_lock = threading.Lock()


def in_child(reset: Callable[[], object]) -> None:
    """Call ``reset()`` in the child of every later fork (a module's own state)."""
    with _lock:
        _resets.append((None, reset))


def reset_in_child(owner: _T, reset: Callable[[_T], object]) -> None:
    """Call ``reset(owner)`` in the child of every later fork, while ``owner`` lives.

    ``owner`` is held weakly, so registering costs an object nothing when it is
    dropped; registering the same pair again changes nothing.
    """
    global _resets
    with _lock:
        alive = [(ref, fn) for ref, fn in _resets if ref is None or ref() is not None]
        if not any(ref is not None and ref() is owner and fn is reset for ref, fn in alive):
            alive.append((weakref.ref(owner), reset))
        _resets = alive


def _after_fork_in_child() -> None:
    global _lock
    # A thread of the parent may have held the lock at the fork: replace, never acquire.
    _lock = threading.Lock()
    for ref, reset in list(_resets):
        try:
            if ref is None:
                reset()
            elif (owner := ref()) is not None:
                reset(owner)
        except Exception:  # a fork hook must never fail the child
            logger.exception("flagport: a reset after fork() failed")


os.register_at_fork(after_in_child=_after_fork_in_child)
