"""The process-wide client and the module-level shortcuts (``flagport.check_gate``)."""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Callable, Mapping
from contextvars import ContextVar
from typing import TYPE_CHECKING, Any, ClassVar

from flagport._evaluation import raise_strict
from flagport._lifecycle import install_signal_handlers
from flagport._provider_lifecycle import on_event_loop_thread
from flagport.client import Flagport
from flagport.errors import ConfigurationError, ProviderNotReadyError, describe
from flagport.provider import Provider, ProviderOptions
from flagport.results import ConfigResult, Evaluations, ExperimentResult, GateResult
from flagport.scope import ContextBinding, current_user
from flagport.settings import _truthy, load_settings
from flagport.user import UserLike

if TYPE_CHECKING:
    from flagport._changes import ChangeSubscription
    from flagport.events.model import Event
    from flagport.provider import DefinitionsChanged
    from flagport.user import User

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

logger = logging.getLogger("flagport")

#: Seconds :func:`setup` gives the client it replaces to flush its events and stop.
_REPLACED_SHUTDOWN_TIMEOUT = 5.0

_client: Flagport | None = None
# Whether _client was made here (setup(), or built from settings): then setup() shuts it
# down when it replaces it. A client given to set_client() belongs to its caller.
_made_here = False
_lock = threading.Lock()
# A client bound to the current request (flagport.middleware's client=), per thread/task.
_bound: ContextVar[Flagport | None] = ContextVar("flagport_client", default=None)


def setup(provider: str | Provider | None = None, **options: Any) -> Flagport:
    """Create (or replace) the process-wide client; arguments as for :class:`Flagport`.

    Nothing starts until the first evaluation, so this is safe to call at import time
    in a web application that forks workers later. A client it replaces that was made
    here (by an earlier ``setup()``, or built from settings by a shortcut) is shut down:
    its events flushed and its provider stopped, waited for 5 seconds at most (on an
    event loop, not waited for: it stops in the background, and the interpreter's exit
    still delivers its events), never raising (a failure is logged). A client installed
    with :func:`set_client` is left to whoever installed it.

    :raises ConfigurationError: the arguments or settings are invalid (nothing replaced).
    """
    global _client, _made_here
    client = Flagport(provider, **options)
    with _lock:
        previous, made = _client, _made_here
        _client, _made_here = client, True
    if previous is not None and made:
        _retire(previous, _REPLACED_SHUTDOWN_TIMEOUT)
    return client


def set_client(client: Flagport | None, *, retire: bool = False) -> Flagport | None:
    """Install ``client`` as the process-wide client; returns the previous one.

    The previous client is not shut down: the caller decides.

    :param retire: shut the previous client down, as :func:`setup` does, when it was made
        here (by :func:`setup`, or from settings by a shortcut); one installed with
        ``set_client`` is still left to whoever installed it. For code that installs a
        client for a while and then puts the one before back (the pytest plugin's
        fixture): what the code in between set up is not left running.
    """
    global _client, _made_here
    with _lock:
        previous, made = _client, _made_here
        _client, _made_here = client, False
    if retire and made and previous is not None and previous is not client:
        _retire(previous, _REPLACED_SHUTDOWN_TIMEOUT)
    return previous


def _retire(client: Flagport, timeout: float) -> None:
    """Shut ``client`` down on a thread of its own, waiting for it ``timeout`` seconds at
    most: a provider that takes longer finishes in the background. An event loop does
    not wait at all; the client stays registered until it stopped, so the exit still
    delivers its events."""
    worker = threading.Thread(
        target=_shut_down_quietly, args=(client, timeout), name="flagport-retire", daemon=True
    )
    worker.start()
    if on_event_loop_thread():
        return
    worker.join(timeout)
    if worker.is_alive():
        logger.warning(
            "flagport: the replaced process-wide client did not shut down within %.1fs; it "
            "goes on stopping in the background",
            timeout,
        )


def _shut_down_quietly(client: Flagport, timeout: float) -> None:
    try:
        client.shutdown(timeout)
    except Exception as exc:  # strict clients raise what their provider's shutdown raised
        logger.warning(
            "flagport: shutting down the replaced process-wide client failed: %s", describe(exc)
        )


def get_client() -> Flagport:
    """The process-wide client; built from settings on first use if ``setup`` was not called.

    When settings cannot build one (none given, or invalid), a warning says what is
    missing and how to fix it, once, and the client returned serves every flag's default
    with ``PROVIDER_NOT_READY`` until :func:`setup` or :func:`set_client` installs
    another; its events go to the sinks of the settings' ``[events]`` part when that is
    valid, and those it cannot deliver (no vendor behind the ``provider`` sink) are counted
    in ``stats()``. Strict settings raise instead.

    :raises ConfigurationError: no client can be built and the settings are strict.
    """
    global _client, _made_here
    client = _client
    if client is None:
        built: Flagport | None = None
        with _lock:
            if _client is None:
                built = _client = _from_settings()
                _made_here = True
            client = _client
        unconfigured = built._provider if built is not None else None
        if isinstance(unconfigured, _Unconfigured):
            # After the lock: a log handler that evaluates a flag gets the default rather
            # than waiting forever for the lock this thread holds.
            _warn_unconfigured(unconfigured)
    return client


def _from_settings() -> Flagport:
    """A client built from settings, or one serving defaults (:func:`get_client` warns)."""
    try:
        return Flagport.from_settings()
    except Exception as exc:
        if _strict_settings():
            raise_strict(exc, "building the process-wide client", ConfigurationError)
        client = _unconfigured_client(describe(exc, one_line=True))
        # Started now, even on an event loop (there is nothing to load): an evaluation
        # would otherwise start it in the background and say "still starting".
        client._lifecycle.start()
        return client


def _unconfigured_client(why: str) -> Flagport:
    """A client of the :class:`_Unconfigured` provider; its ``events`` note says what
    becomes of the events.

    Valid ``[events]`` settings are kept: what the application logs still reaches the
    sinks it configured (a JSON-lines file, logging, a callable). What the ``provider``
    sink takes has no vendor to go to: the provider counts it in its stats.
    """
    provider = _Unconfigured(why)
    dropped = "counted in flagport.stats()['provider']['events_dropped']"
    provider.events = f"events are dropped ({dropped})"
    try:
        table = load_settings().events
    except Exception:  # the settings themselves are broken: nothing of them is kept
        table = {}
    if not table:
        return Flagport(provider)
    try:
        client = Flagport(provider, events=table)
    except Exception as exc:
        provider.events = (
            f"events are dropped ({dropped}): the [events] settings are invalid "
            f"({describe(exc, one_line=True)})"
        )
        return Flagport(provider)
    sinks = [s if isinstance(s, str) else "callable" for s in client.event_settings.sinks]
    kept = [s for s in sinks if s != "provider"]
    if kept:
        provider.events = f"events go to the [events] sinks {', '.join(kept)}"
        if "provider" in sinks:
            provider.events += f"; those for the provider sink are dropped ({dropped})"
    return client


def _warn_unconfigured(provider: _Unconfigured) -> None:
    logger.warning(
        "flagport: the process-wide client cannot be built from settings (%s). Until "
        "one is configured, flagport.check_gate() and the other module-level shortcuts "
        "serve defaults (reason ERROR, error code PROVIDER_NOT_READY); %s. "
        "Configure it: call flagport.setup(provider=..., ...) at start-up, or create "
        "flagport.toml (or [tool.flagport] in pyproject.toml), or set FLAGPORT_PROVIDER "
        "and its options (e.g. FLAGPORT_LOCAL_PATH=flags.yaml); FLAGPORT_STRICT=1 "
        "raises instead",
        provider.why,
        provider.events,
    )


def _strict_settings() -> bool:
    """Whether the settings are strict, even when they cannot build a client."""
    try:
        return load_settings().strict
    except Exception:
        # The settings themselves are broken: the environment can still say.
        try:
            return _truthy(os.environ.get("FLAGPORT_STRICT", "false"), "FLAGPORT_STRICT")
        except ConfigurationError:
            return False


class NotConfiguredError(ProviderNotReadyError):
    """No process-wide client could be built; the warning logged then explained it."""

    explained: ClassVar[bool] = True


class _Unconfigured(Provider):
    """The provider of the process-wide client settings could not build: every flag
    serves its default with ``PROVIDER_NOT_READY``, saying why."""

    name = "unconfigured"

    def __init__(self, why: str) -> None:
        super().__init__(ProviderOptions())
        self.why = why
        self.events = "events are dropped"
        self.events_dropped = 0
        self._message = (
            f"flagport is not configured ({why}); call flagport.setup(...) or give settings "
            "(flagport.toml, FLAGPORT_PROVIDER)"
        )

    def start(self) -> None:
        """Stays ``NOT_READY``: there is nothing to load."""

    def evaluate_gate(self, user: User, name: str, *, expose: bool = True) -> GateResult:
        raise NotConfiguredError(self._message)

    def evaluate_experiment(
        self, user: User, name: str, *, expose: bool = True
    ) -> ExperimentResult:
        raise NotConfiguredError(self._message)

    def evaluate_config(self, user: User, name: str, *, expose: bool = True) -> ConfigResult:
        raise NotConfiguredError(self._message)

    def log_event(self, event: Event) -> None:
        # Only the provider sink's worker thread calls this: a plain count is safe.
        self.events_dropped += 1

    def stats(self) -> dict[str, Any]:
        return {"error": f"not configured: {self.why}", "events_dropped": self.events_dropped}


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
