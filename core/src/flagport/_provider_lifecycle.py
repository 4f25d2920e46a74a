"""One client's provider through its life: started once per process, rebuilt in a forked
child, shut down once.

The provider starts on first use. A forked child never touches the parent's provider
(its threads do not exist in the child): it builds a fresh one from the same options
on first use.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import TYPE_CHECKING

from flagport._evaluation import raise_strict
from flagport.errors import ProviderNotReadyError, describe
from flagport.provider import Provider, ProviderStatus

if TYPE_CHECKING:
    from flagport._evaluation import Failures
    from flagport.events.model import Event

__all__ = ["ProviderLifecycle"]

logger = logging.getLogger("flagport")


class ProviderLifecycle:
    """Starts, rebuilds and stops one client's provider.

    :param provider: the provider, not started.
    :param emit: where the provider's vendor-reported events go (see
        :meth:`Provider.attach`).
    :param failures: the client's failure policy (strict, logging, observers).
    :param on_change: called with the provider once it started, and with ``None``
        when it stops being the one answering (shutdown, fork).
    :ivar started: the provider was started in this process (successfully or not).
    :ivar closed: the client was shut down.
    """

    def __init__(
        self,
        provider: Provider,
        emit: Callable[[Event], None],
        failures: Failures,
        on_change: Callable[[Provider | None], None],
    ) -> None:
        self.provider = provider
        self._emit = emit
        self._failures = failures
        self._on_change = on_change
        self._lock = threading.RLock()
        self.started = False
        self.closed = False
        self._forked = False
        provider.attach(emit)

    def start(self) -> Provider:
        """Start the provider in this process if it was not yet; returns it.

        A provider that fails to start is logged and marked ``ERROR`` (it serves
        defaults); strict raises :class:`~flagport.ProviderNotReadyError`.
        """
        with self._lock:
            if self.started:
                return self.provider
            if self.closed:
                raise ProviderNotReadyError("this flagport client was shut down")
            # Again, not only at construction: for plugins registered in between.
            self._failures.observers.refresh()
            if self._forked:
                self._forked = False
                old = self.provider
                self.provider = type(old)(old.options)
                self.provider.attach(self._emit)
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
            self._on_change(provider)
            self.started = True
            return provider

    def require(self) -> Provider:
        """The started provider, started now if it was not yet."""
        return self.provider if self.started else self.start()

    def start_soon(self) -> None:
        """Start the provider if it was not yet (and the client is not shut down)."""
        if not self.started and not self.closed:
            self.start()

    def flush(self, timeout: float) -> None:
        """Ask a started provider to deliver its queued events, within ``timeout``."""
        if self.started:
            self._failures.guard(self.provider.flush, timeout)

    def shutdown(self, timeout: float, before: Callable[[float], object]) -> None:
        """Run ``before(timeout)`` (the event pipeline's shutdown), then stop the provider
        within what is left of ``timeout``. Once only: later calls do nothing."""
        with self._lock:
            if self.closed:
                return
            deadline = time.monotonic() + timeout
            before(timeout)
            self.closed = True
            provider = self.provider
            if self.started:
                self._failures.guard(provider.shutdown, max(0.0, deadline - time.monotonic()))
            provider.status = ProviderStatus.SHUT_DOWN
            provider.detach()
            self.started = False
            self._on_change(None)

    def after_fork_in_child(self) -> None:
        # Runs inside os.fork(): only plain assignments, nothing that can fail.
        self._lock = threading.RLock()
        self.started = False
        self._forked = True
        self._on_change(None)

    @property
    def state(self) -> str:
        """``not started``, ``started`` or ``closed``."""
        return "closed" if self.closed else ("started" if self.started else "not started")
