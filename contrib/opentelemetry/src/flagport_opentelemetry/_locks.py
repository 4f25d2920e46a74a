"""Locks that a forked child gets anew.

A web server that forks workers after the application enabled telemetry would otherwise
hand a child a lock that a parent thread held at the fork: never released there, it
would stop the child's first evaluation for good.
"""

from __future__ import annotations

import os
import threading
import weakref
from typing import Any

__all__ = ["fork_safe_lock"]

_owners: weakref.WeakSet[Any] = weakref.WeakSet()


def fork_safe_lock(owner: Any) -> threading.Lock:
    """A lock for ``owner._lock``, replaced by a new one in a forked child."""
    _owners.add(owner)
    return threading.Lock()


def _renew() -> None:
    for owner in list(_owners):
        owner._lock = threading.Lock()


os.register_at_fork(after_in_child=_renew)
