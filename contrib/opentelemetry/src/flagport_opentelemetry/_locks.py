"""Locks that a forked child gets anew.

A web server that forks workers after the application enabled telemetry would otherwise
hand a child a lock that a parent thread held at the fork: never released there, it
would stop the child's first evaluation for good.
"""

from __future__ import annotations

import threading
from typing import Any

from flagport._fork import reset_in_child

__all__ = ["fork_safe_lock"]


def fork_safe_lock(owner: Any) -> threading.Lock:
    """A lock for ``owner._lock``, replaced by a new one in a forked child."""
    reset_in_child(owner, _renew)
    return threading.Lock()


def _renew(owner: Any) -> None:
    owner._lock = threading.Lock()
