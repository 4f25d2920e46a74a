"""A provider runs once at a time: a second ``start()`` while it runs changes nothing.

Whoever holds a provider may start it (a test or a script by hand, a client it is given
later, a composite starting its parts): every call but the first of a run returns at once,
leaving the provider as the first one left it (its status, its threads, its connections),
so no second sync, watcher or poller starts beside the first. It reports what the first
one did: when that raised, it raises the same error, unless the provider became ready
since. ``shutdown()`` ends the run; a ``start()`` after it is a new run, as fresh as the
first: the provider is ``NOT_READY`` (no longer ``SHUT_DOWN``) when its start begins, so
what the start loads makes it ready and it serves again; each provider's shutdown drops
what its start built (a vendor SDK object, a stop event) so the next start builds it anew.
:class:`flagport.Provider` wraps its own and every subclass's ``start`` and ``shutdown``
with these, so no provider repeats the guard.
"""

from __future__ import annotations

import functools
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar, cast

from flagport._fork import reset_in_child

if TYPE_CHECKING:
    from flagport.provider import Provider

__all__ = ["Run", "ends_run", "once_per_run"]

_Method = TypeVar("_Method", bound=Callable[..., None])


class Run:
    """Where one provider is in its run.

    :ivar started: a start finished (raising or not) and no shutdown followed.
    :ivar failure: what that start raised, if it did.
    :ivar starting: a start is running (on the thread holding :attr:`lock`).
    :ivar stops: shutdowns so far: a start that a shutdown overlapped is not a run.
    """

    __slots__ = ("failure", "lock", "started", "starting", "stops")

    def __init__(self) -> None:
        self.lock = threading.RLock()
        self.started = False
        self.failure: BaseException | None = None
        self.starting = False
        self.stops = 0


def once_per_run(start: _Method) -> _Method:
    """``start`` run once until the next shutdown; a start that raised counts (what it
    opened, a file watcher that makes the provider ready once the file is fixed, runs on),
    and a later call raises its error again while the provider is not ready.

    A second caller while the first start runs waits for it; an override calling
    ``super().start()`` runs the parent's start as part of its own.
    """

    @functools.wraps(start)
    def start_once(self: Provider) -> None:
        run = self._run
        with run.lock:
            if run.starting:  # within the same start: an override calling super().start()
                start(self)
                return
            if run.started:
                if run.failure is not None and self.status != "READY":
                    raise run.failure
                return
            # In a forked child the run is the parent's (its threads did not survive).
            reset_in_child(self, _forget_run)
            self._begin_run()
            run.starting, stops = True, run.stops
            try:
                start(self)
            except BaseException as exc:
                run.failure = exc
                raise
            else:
                run.failure = None
            finally:
                run.starting = False
                run.started = run.stops == stops

    return cast("_Method", start_once)


def ends_run(shutdown: _Method) -> _Method:
    """``shutdown`` ending the run: the next ``start()`` starts the provider again."""

    @functools.wraps(shutdown)
    def shutdown_run(self: Provider, *args: Any, **kwargs: Any) -> None:
        # Not under the run's lock: a shutdown never waits for a start (it must not hang).
        run = self._run
        try:
            shutdown(self, *args, **kwargs)
        finally:
            run.stops += 1
            run.started = False

    return cast("_Method", shutdown_run)


def _forget_run(provider: Provider) -> None:
    # Inside os.fork(), in the child: assign only (the parent's start may hold the lock).
    provider._run = Run()
