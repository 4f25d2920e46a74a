"""The process-wide client and the module-level shortcuts (``flagport.check_gate``)."""

from __future__ import annotations

import atexit
import threading
from collections.abc import Mapping
from typing import Any

from flagport.client import Flagport
from flagport.results import ConfigResult, Evaluations, ExperimentResult, GateResult
from flagport.user import UserLike

__all__ = [
    "check_gate",
    "evaluate_all",
    "flush",
    "get_client",
    "get_config",
    "get_experiment",
    "get_gate",
    "log_event",
    "set_client",
    "setup",
    "shutdown",
]

_client: Flagport | None = None
_lock = threading.Lock()


def setup(provider: str | None = None, **options: Any) -> Flagport:
    """Create (or replace) the process-wide client; arguments as for :class:`Flagport`.

    Nothing starts until the first evaluation, so this is safe to call at import time
    in a web application that forks workers later.
    """
    client = Flagport(provider, **options)
    set_client(client)
    return client


def set_client(client: Flagport | None) -> Flagport | None:
    """Install ``client`` as the process-wide client; returns the previous one.

    The previous client is not shut down: the caller decides.
    """
    global _client
    with _lock:
        previous, _client = _client, client
    return previous


def get_client() -> Flagport:
    """The process-wide client; built from settings on first use if ``setup`` was not called."""
    global _client
    client = _client
    if client is None:
        with _lock:
            if _client is None:
                _client = Flagport.from_settings()
            client = _client
    return client


def check_gate(user: UserLike, name: str, *, default: bool = False) -> bool:
    """``get_client().check_gate(...)``."""
    return get_client().check_gate(user, name, default=default)


def get_gate(user: UserLike, name: str, *, default: bool = False) -> GateResult:
    """``get_client().get_gate(...)``."""
    return get_client().get_gate(user, name, default=default)


def get_experiment(
    user: UserLike, name: str, *, default: Mapping[str, Any] | None = None
) -> ExperimentResult:
    """``get_client().get_experiment(...)``."""
    return get_client().get_experiment(user, name, default=default)


def get_config(
    user: UserLike, name: str, *, default: Mapping[str, Any] | None = None
) -> ConfigResult:
    """``get_client().get_config(...)``."""
    return get_client().get_config(user, name, default=default)


def log_event(
    user: UserLike,
    name: str,
    value: float | str | None = None,
    metadata: Mapping[str, Any] | None = None,
) -> None:
    """``get_client().log_event(...)``."""
    get_client().log_event(user, name, value, metadata)


def evaluate_all(user: UserLike) -> Evaluations:
    """``get_client().evaluate_all(...)``."""
    return get_client().evaluate_all(user)


def flush(timeout: float = 5.0) -> None:
    """Flush the process-wide client, if there is one."""
    if _client is not None:
        _client.flush(timeout)


def shutdown(timeout: float = 5.0) -> None:
    """Shut the process-wide client down and forget it."""
    client = set_client(None)
    if client is not None:
        client.shutdown(timeout)


atexit.register(shutdown)
