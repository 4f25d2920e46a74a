"""Process lifecycle for every client: fork, interpreter exit and (opt-in) SIGTERM.

Clients register here when they are built and leave at
:meth:`~flagport.Flagport.shutdown`; they are held weakly, so a client the application
drops is forgotten with it; its events are not.

- **drop**: a client collected without :meth:`~flagport.Flagport.shutdown` (the
  application let go of it) has its event workers finish on their own: each delivers
  what it holds at once, closes its sink and ends its thread. Only the workers are
  kept, by their own running threads, never the client, so dropping clients leaks
  neither clients nor threads. The exit waits for them as for live clients.
- **fork**: the child resets every live client, which then starts its own provider
  and event workers on first use (the parent's threads do not exist in the child).
- **exit**: every live client is shut down, each within its ``[events]
  shutdown_timeout``; all of them deliver at the same time, so the exit waits at
  most for the slowest, not for the sum.
- **SIGTERM** (only after :func:`install_signal_handlers`): every live client
  flushes, then the previous handler runs; a default handler is re-raised, so the
  process still ends by the signal. The clients are flushed, not shut down: a
  server's own graceful shutdown may log more events, which the exit then delivers.
"""

from __future__ import annotations

import atexit
import logging
import os
import signal
import threading
import time
import weakref
from collections.abc import Callable, Iterable
from types import FrameType
from typing import TYPE_CHECKING, Any

from flagport._fork import in_child

if TYPE_CHECKING:
    from flagport.client import Flagport
    from flagport.events.worker import SinkWorker

__all__ = [
    "forget_exposures",
    "install_signal_handlers",
    "live_clients",
    "register",
    "unregister",
]

logger = logging.getLogger("flagport")

# Ordered by registration (a dict of weak keys), so clients are finished oldest first.
_clients: weakref.WeakKeyDictionary[Flagport, None] = weakref.WeakKeyDictionary()
# Reentrant: the SIGTERM handler runs in the main thread between two bytecodes, maybe
# while that thread registers or unregisters a client under this lock.
_lock = threading.RLock()
_installed: dict[int, Any] = {}  # signal number -> the handler flagport replaced
# Workers of dropped clients still delivering -> the dropped client's shutdown timeout.
# Weak: a worker lives as long as its thread runs, which ends once it has delivered.
_orphans: weakref.WeakKeyDictionary[SinkWorker, float] = weakref.WeakKeyDictionary()
# Reentrant: a finalizer adopting orphans may run in a garbage collection started while
# this thread holds it.
_orphans_lock = threading.RLock()


def register(client: Flagport) -> None:
    """Flush ``client`` at exit within its events' ``shutdown_timeout``, reset it in a
    forked child, and deliver its events if it is dropped without being shut down."""
    with _lock:
        _clients[client] = None
    # The finalizer holds the workers weakly and never the client: a worker holds its
    # events only once its thread has started, and the thread then keeps it alive.
    workers = weakref.WeakSet(client.events.workers)
    finalizer = weakref.finalize(client, _adopt, workers, client.event_settings.shutdown_timeout)
    finalizer.atexit = False  # at exit, live clients are shut down by shutdown_all


def unregister(client: Flagport) -> None:
    """Forget ``client``, which was shut down: the exit, a fork and a signal have
    nothing left to do for it, and :func:`live_clients` no longer lists it."""
    with _lock:
        _clients.pop(client, None)


def _adopt(workers: weakref.WeakSet[SinkWorker], timeout: float) -> None:
    """A client was collected without shutdown: its workers deliver, close and end.

    Runs wherever the collection happened, so it only sets flags, never waits.
    """
    for worker in list(workers):
        thread = worker.thread
        if thread is None or worker.stopping or not thread.is_alive():
            continue  # never started (holds nothing), or already shut down
        with _orphans_lock:
            _orphans[worker] = timeout
        worker.stopping = True
        worker.wake.set()


def _finish_orphans(start: float) -> None:
    """Wait for the workers of dropped clients, each within its client's timeout from
    ``start``."""
    with _orphans_lock:
        pending = list(_orphans.items())
    for worker, timeout in pending:
        thread = worker.thread
        if thread is not None:
            thread.join(max(0.0, timeout - (time.monotonic() - start)))
        lost = len(worker.queue) + worker.in_flight
        if lost:
            logger.warning(
                "flagport: event sink %r of a client dropped without shutdown did not "
                "take %d events before exit",
                worker.sink.name,
                lost,
            )


def live_clients() -> list[Flagport]:
    """The clients still alive and not shut down, oldest first."""
    with _lock:
        return list(_clients)


def forget_exposures() -> None:
    """Make every live client forget which exposures it logged.

    The next assignment of each (unit, experiment, group) is logged again; the pytest
    plugin calls this before each test so that tests do not depend on their order.
    """
    for client in live_clients():
        client.exposures.clear()


def _deliver_all(finish: Callable[[Flagport, float], object]) -> None:
    """Call ``finish(client, seconds_left)`` for each live client, all against one clock.

    Every client's workers are woken first, so they deliver in parallel while the
    clients are finished one after the other; then the workers of clients dropped
    without shutdown, already delivering, are waited for against the same clock.
    """
    pending = live_clients()
    for client in pending:
        client.events.wake()
    start = time.monotonic()
    for client in pending:
        timeout = client.event_settings.shutdown_timeout
        try:
            finish(client, max(0.0, timeout - (time.monotonic() - start)))
        except Exception:
            logger.exception("flagport: delivering a client's events at exit failed")
    _finish_orphans(start)


def shutdown_all() -> None:
    """Shut every live client down, each within its shutdown timeout (the exit hook)."""
    _deliver_all(lambda client, left: client.shutdown(left))


def flush_all() -> None:
    """Flush every live client, each within its shutdown timeout (the SIGTERM hook)."""
    _deliver_all(lambda client, left: client.flush(left))


def _reset_after_fork() -> None:
    # Runs inside os.fork() in the child: no lock taken by another thread may be
    # waited on here, so the registry's lock is replaced, not acquired.
    global _lock, _orphans_lock
    _lock = threading.RLock()
    # The parent's orphaned workers deliver in the parent; their threads are not here.
    _orphans_lock = threading.RLock()
    _orphans.clear()
    for client in list(_clients):
        try:
            client._after_fork_in_child()
        except Exception:  # pragma: no cover - a fork hook must never fail
            logger.exception("flagport: resetting a client after fork failed")


def _on_signal(signum: int, frame: FrameType | None) -> None:
    try:
        flush_all()
    finally:
        previous = _installed.get(signum, signal.SIG_DFL)
        if callable(previous):
            previous(signum, frame)
        elif previous == signal.SIG_DFL:
            # End the process the way the signal would have: restore the default and
            # send it again, so the exit status still says "killed by SIGTERM".
            signal.signal(signum, signal.SIG_DFL)
            os.kill(os.getpid(), signum)
        # SIG_IGN: the process chose to ignore the signal; it keeps running.


def install_signal_handlers(signals: Iterable[int] = (signal.SIGTERM,)) -> None:
    """Flush every live client's events when the process receives one of ``signals``.

    Opt-in, because a signal handler is the application's to own. Call it from the
    main thread after the server has installed its own handlers (gunicorn and uvicorn
    install theirs when a worker starts): flagport's handler flushes within each
    client's ``shutdown_timeout``, then calls the handler it replaced, or, when that
    was the default action, ends the process by the signal as the default would.
    Calling it again is harmless.

    :param signals: the signals to handle (SIGTERM by default).
    :raises ValueError: called from a thread other than the main thread.
    """
    for signum in signals:
        current = signal.getsignal(signum)
        if current is _on_signal:
            continue
        # None: a handler installed outside Python, which flagport cannot call back.
        _installed[signum] = signal.SIG_DFL if current is None else current
        try:
            signal.signal(signum, _on_signal)
        except BaseException:
            del _installed[signum]
            raise


atexit.register(shutdown_all)
in_child(_reset_after_fork)
