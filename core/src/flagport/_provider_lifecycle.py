"""One client's provider through its life: started once per process, rebuilt in a forked
child, shut down once.

The provider starts on first use. On an event loop's thread, first use only begins the
start, on a thread of its own: a vendor SDK waiting for its server must not stall the
loop, so until the provider is started the evaluation serves its default with
``PROVIDER_NOT_READY``. A forked child never touches the parent's provider (its threads
do not exist in the child): it builds a fresh one from the same options on first use.
The client owns the provider it was given: its shutdown shuts the provider down, whoever
started it (the client, the application by hand, or no one).
"""

from __future__ import annotations

import logging
import sys
import threading
import time
from collections.abc import Callable
from typing import TYPE_CHECKING

from flagport._evaluation import raise_strict
from flagport.errors import FlagportError, ProviderNotReadyError, describe
from flagport.provider import Provider, ProviderStatus
from flagport.reasons import ErrorCode

if TYPE_CHECKING:
    from concurrent.futures import Future

    from flagport._evaluation import Failures
    from flagport.events.model import Event
    from flagport.provider import DefinitionsChanged

__all__ = ["ProviderLifecycle", "on_event_loop_thread"]

logger = logging.getLogger("flagport")
#: Seconds a provider whose start finished after its client was shut down gets to stop.
_LATE_SHUTDOWN_TIMEOUT = 5.0
#: Seconds between looks at a started provider's status while waiting for it to be ready.
_READY_POLL = 0.02


def on_event_loop_thread() -> bool:
    """Whether an asyncio (or uvloop) event loop is running on this thread."""
    # No loop can run before asyncio was imported: pay for nothing more in sync programs.
    asyncio = sys.modules.get("asyncio")
    if asyncio is None:
        return False
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return False
    return True


class ProviderLifecycle:
    """Starts, rebuilds and stops one client's provider.

    :param provider: the provider, not started.
    :param emit: where the provider's vendor-reported events go (see
        :meth:`Provider.attach`).
    :param failures: the client's failure policy (strict, logging, observers).
    :param on_change: called with the provider once it started, and with ``None``
        when it stops being the one answering (shutdown, fork).
    :param changes: hears the provider announce that its definitions changed (see
        :meth:`Provider.attach_changes`).
    :ivar started: the provider was started in this process (successfully or not).
    :ivar closed: the client was shut down.
    """

    def __init__(
        self,
        provider: Provider,
        emit: Callable[[Event], None],
        failures: Failures,
        on_change: Callable[[Provider | None], None],
        changes: Callable[[DefinitionsChanged], None],
    ) -> None:
        self.provider = provider
        self._emit = emit
        self._changes = changes
        self._failures = failures
        self._on_change = on_change
        self._lock = threading.RLock()
        self.started = False
        self.closed = False
        self._forked = False
        # The start running on a thread of its own, if any (guarded by its own lock: the
        # start holds the main one).
        self._background: Future[Provider] | None = None
        self._background_lock = threading.Lock()
        provider.attach(emit)
        provider.attach_changes(changes)

    def start(self) -> Provider:
        """Start the provider in this process if it was not yet; returns it.

        A provider that fails to start is logged and marked ``ERROR`` (it serves
        defaults); strict raises :class:`~flagport.ProviderNotReadyError`.
        """
        # Without the lock when started: a shutdown holds it while the events drain, and
        # the provider sink asks for the provider meanwhile.
        return self.provider if self.started else self._start_once()

    def _start_once(self) -> Provider:
        with self._lock:
            if self.started:
                return self.provider
            self._refuse_if_closed()
            # Again, not only at construction: for plugins registered in between.
            self._failures.observers.refresh()
            if self._forked:
                self._forked = False
                old = self.provider
                self.provider = type(old)(old.options)
                self.provider.attach(self._emit)
                self.provider.attach_changes(self._changes)
            provider = self.provider
            try:
                provider.start()
            except Exception as exc:
                provider.status = ProviderStatus.ERROR
                if self._failures.strict:
                    raise_strict(
                        exc, f"provider {provider.name!r} failed to start", ProviderNotReadyError
                    )
                logger.error(
                    "flagport: provider %r failed to start (%s); serving defaults",
                    provider.name,
                    describe(exc),
                )
                self._failures.report(None, exc)
            if self.closed:  # shut down while this start ran: the provider is not wanted
                self._stop(provider, _LATE_SHUTDOWN_TIMEOUT)
                self._refuse_if_closed()
            # Before the first evaluation can reach it: what it published so far is what
            # the application starts with, anything later a change (flagport._publications).
            provider.mark_serving()
            self._on_change(provider)
            self.started = True
            return provider

    def _refuse_if_closed(self) -> None:
        if self.closed:
            raise ProviderNotReadyError("this flagport client was shut down")

    def require(self) -> Provider:
        """The started provider, started now if it was not yet.

        :raises ProviderNotReadyError: on an event loop's thread, while the provider is
            still starting (the start continues in the background).
        """
        if self.started:
            return self.provider
        self._refuse_if_closed()  # before a thread is spent on a start that cannot be
        if on_event_loop_thread():
            self.start_in_background()
            raise ProviderNotReadyError(
                f"provider {self.provider.name!r} is still starting (in the background: an "
                "event loop does not wait for it; await fp.start() before serving requests)"
            )
        return self.start()

    def unready(self, *, wait: bool = True) -> tuple[ErrorCode | None, str | None]:
        """``PROVIDER_NOT_READY`` and why the provider cannot answer (not started, failed,
        shut down), or ``(None, None)`` when it can.

        Answering "no such flag" or an empty flag list then would be a lie a caller caches.

        :param wait: start the provider and wait for it, even on an event loop's thread
            (:meth:`start`); else as :meth:`require` does.
        """
        try:
            provider = self.start() if wait else self.require()
        except FlagportError as exc:
            why = f"the flag provider is not ready (PROVIDER_NOT_READY): {exc}"
        else:
            if provider.status in (ProviderStatus.READY, ProviderStatus.STALE):
                return None, None
            why = (
                f"the flag provider {provider.name!r} is not ready (PROVIDER_NOT_READY, "
                f"status {provider.status.value}); its log says why"
            )
        return ErrorCode.PROVIDER_NOT_READY, why

    def start_soon(self) -> None:
        """Start the provider if it was not yet: now, or in the background on an event
        loop's thread."""
        if not self.started and not self.closed:
            if on_event_loop_thread():
                self.start_in_background()
            else:
                self.start()

    def start_in_background(self) -> Future[Provider]:
        """Begin the start on a thread of its own, unless one is running; its future."""
        from concurrent.futures import Future  # only on an event loop's thread: not a cold start's

        with self._background_lock:
            running = self._background
            if running is not None and not running.done():
                return running
            future: Future[Provider] = Future()
            future.set_running_or_notify_cancel()  # an awaiting task cancelled cannot cancel it
            if self.started:
                future.set_result(self.provider)
            else:
                name = f"flagport-start-{self.provider.name}"
                threading.Thread(
                    target=self._start_into, args=(future,), name=name, daemon=True
                ).start()
            self._background = future
            return future

    def _start_into(self, future: Future[Provider]) -> None:
        try:
            future.set_result(self.start())
        except BaseException as exc:  # strict: the waiters raise it
            future.set_exception(exc)

    async def wait_started(self, timeout: float | None) -> bool:
        """Start the provider off the event loop and wait at most ``timeout`` seconds.

        :returns: whether the start finished (a start still running goes on).
        :raises FlagportError: strict, and the provider failed to start.
        """
        import asyncio  # only async programs pay for it

        if self.started:
            return True
        waiting = asyncio.wrap_future(self.start_in_background())
        try:
            await asyncio.wait_for(asyncio.shield(waiting), timeout)
        except TimeoutError:
            return False
        return True

    async def wait_ready(self, timeout: float | None) -> bool:
        """Start the provider off the event loop; whether it is ``READY`` within ``timeout``.

        A provider whose start finished without definitions (a vendor that does not answer
        yet) may turn ready later: it is looked at until the deadline.
        """
        import asyncio

        deadline = None if timeout is None else time.monotonic() + timeout
        if not await self.wait_started(timeout):
            return False
        while self.provider.status is not ProviderStatus.READY:
            if deadline is None or time.monotonic() >= deadline:
                return False
            await asyncio.sleep(min(_READY_POLL, max(0.0, deadline - time.monotonic())))
        return True

    def flush(self, timeout: float) -> None:
        """Ask a started provider to deliver its queued events, within ``timeout``."""
        if self.started:
            self._failures.guard(self.provider.flush, timeout)

    def shutdown(self, timeout: float, before: Callable[[float], object]) -> None:
        """Run ``before(timeout)`` (the event pipeline's shutdown), then stop the provider
        within what is left of ``timeout``. Once only: later calls do nothing.

        A start still running when the timeout ends (a vendor that does not answer) is
        not waited for: it stops the provider itself when it returns.
        """
        deadline = time.monotonic() + timeout
        locked = self._lock.acquire(timeout=timeout)
        try:
            if self.closed:
                return
            if locked:
                before(timeout)  # the provider still takes the events being delivered
                self.closed = True
            else:
                # A start still runs: it stops the provider itself when it returns...
                self.closed = True
                # ...unless it returned in between: then it is stopped here.
                locked = self._lock.acquire(blocking=False)
                before(max(0.0, deadline - time.monotonic()))
            if locked:
                self.started = False
                self._on_change(None)
                left = max(0.0, deadline - time.monotonic())
                # The client owns the provider it was given, whether it started it, the
                # application did (by hand) or no one did, as OpenFeature's shutdown shuts
                # its providers down. Not the parent's, inherited through fork() and never
                # rebuilt here: its threads and connections are the parent's.
                self._stop(self.provider, None if self._forked else left)
        finally:
            if locked:
                self._lock.release()

    def _stop(self, provider: Provider, timeout: float | None) -> None:
        """Shut the provider down within ``timeout`` (``None``: not this process's to)."""
        if timeout is not None:
            self._failures.guard(provider.shutdown, timeout)
        provider.status = ProviderStatus.SHUT_DOWN
        provider.detach()

    def after_fork_in_child(self) -> None:
        # Runs inside os.fork(): only plain assignments, nothing that can fail.
        self._lock = threading.RLock()
        self._background_lock = threading.Lock()
        self._background = None  # its thread does not exist here
        self.started = False
        self._forked = True
        self._on_change(None)

    @property
    def state(self) -> str:
        """``not started``, ``started`` or ``closed``."""
        return "closed" if self.closed else ("started" if self.started else "not started")
