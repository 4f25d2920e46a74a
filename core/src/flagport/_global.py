"""The process-wide client and the module-level shortcuts (``flagport.check_gate``)."""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping
from contextvars import ContextVar
from typing import TYPE_CHECKING, Any

from flagport._lifecycle import install_signal_handlers
from flagport.client import Flagport
from flagport.results import ConfigResult, Evaluations, ExperimentResult, GateResult
from flagport.scope import ContextBinding, current_user
from flagport.user import UserLike

if TYPE_CHECKING:
    from flagport._changes import ChangeSubscription
    from flagport.provider import DefinitionsChanged

__all__ = [
    "aclose",
    "aflush",
    "bind_client",
    "check_gate",
    "current_client",
    "evaluate_all",
    "flush",
    "get_client",
    "get_config",
    "get_experiment",
    "get_gate",
    "install_signal_handlers",
    "log_event",
    "on_change",
    "set_client",
    "setup",
    "shutdown",
    "start",
    "stats",
    "wait_ready",
]

_client: Flagport | None = None
_lock = threading.Lock()
# A client bound to the current request (flagport.middleware's client=), per thread/task.
_bound: ContextVar[Flagport | None] = ContextVar("flagport_client", default=None)


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


def current_client() -> Flagport:
    """The client bound by :func:`bind_client` (a request's), else :func:`get_client`.

    The module-level shortcuts evaluate with it.
    """
    bound = _bound.get()
    return bound if bound is not None else get_client()


def bind_client(client: Flagport) -> ContextBinding[Flagport]:
    """Make ``client`` the :func:`current_client` of this thread or task until the block ends."""
    return ContextBinding(_bound, client)


def _resolve(user: UserLike | str, name: str | None) -> tuple[Any, Any]:
    """``(user, name)``, or ``(name,)`` with the user taken from the current scope."""
    if name is not None or not isinstance(user, str):
        # A missing name reaches the client as None: it serves the default with
        # FLAG_NOT_FOUND ("flag names are str"), or raises that in strict mode.
        return user, name
    # With no scope the client gets None and serves the default with INVALID_CONTEXT.
    return current_user(), user


def check_gate(user: UserLike | str, name: str | None = None, *, default: bool = False) -> bool:
    """``current_client().check_gate(user, name)``; ``check_gate(name)`` inside a scope."""
    who, flag = _resolve(user, name)
    return current_client().check_gate(who, flag, default=default)


def get_gate(user: UserLike | str, name: str | None = None, *, default: bool = False) -> GateResult:
    """``current_client().get_gate(user, name)``; ``get_gate(name)`` inside a scope."""
    who, flag = _resolve(user, name)
    return current_client().get_gate(who, flag, default=default)


def get_experiment(
    user: UserLike | str, name: str | None = None, *, default: Mapping[str, Any] | None = None
) -> ExperimentResult:
    """``current_client().get_experiment(user, name)``; ``get_experiment(name)`` inside a scope."""
    who, flag = _resolve(user, name)
    return current_client().get_experiment(who, flag, default=default)


def get_config(
    user: UserLike | str, name: str | None = None, *, default: Mapping[str, Any] | None = None
) -> ConfigResult:
    """``current_client().get_config(user, name)``; ``get_config(name)`` inside a scope."""
    who, flag = _resolve(user, name)
    return current_client().get_config(who, flag, default=default)


def log_event(
    user: UserLike | str,
    name: str | None = None,
    value: float | str | None = None,
    metadata: Mapping[str, Any] | None = None,
) -> None:
    """``current_client().log_event(user, name, ...)``; ``log_event(name, ...)`` inside a scope.

    Inside a scope, pass ``value`` and ``metadata`` by keyword.
    """
    who, event = _resolve(user, name)
    current_client().log_event(who, event, value, metadata)


def evaluate_all(user: UserLike | None = None) -> Evaluations:
    """``current_client().evaluate_all(user)``, for the scope's user when none is given."""
    return current_client().evaluate_all(user if user is not None else current_user())  # type: ignore[arg-type]


def stats() -> dict[str, Any]:
    """``get_client().stats()``."""
    return get_client().stats()


def on_change(callback: Callable[[DefinitionsChanged], object]) -> ChangeSubscription:
    """``get_client().on_change(callback)``: the process-wide client's definitions changes.

    The subscription belongs to the client installed now: a later :func:`setup` starts
    a new client, which it does not follow.
    """
    return get_client().on_change(callback)


def flush(timeout: float = 5.0) -> bool:
    """Flush the process-wide client, if there is one."""
    return _client.flush(timeout) if _client is not None else True


def shutdown(timeout: float = 5.0) -> None:
    """Shut the process-wide client down and forget it."""
    client = set_client(None)
    if client is not None:
        client.shutdown(timeout)


async def start() -> None:
    """``await get_client().start()``: start the process-wide client's provider off the
    event loop (an application's lifespan start-up)."""
    await get_client().start()


async def wait_ready(timeout: float | None = None) -> bool:
    """``await get_client().wait_ready(timeout)``."""
    return await get_client().wait_ready(timeout)


async def aflush(timeout: float = 5.0) -> bool:
    """:func:`flush` without blocking the event loop."""
    return await _client.aflush(timeout) if _client is not None else True


async def aclose(timeout: float = 5.0) -> None:
    """:func:`shutdown` without blocking the event loop."""
    client = set_client(None)
    if client is not None:
        await client.aclose(timeout)
