"""Hanging up the connections of flagport's deadline transport from another thread.

:class:`~flagport.providers.local.url_wire.DeadlineBackend` caps every socket operation
by what is left of the exchange's deadline, but a read already blocked waits out the cap
it was given (up to ``http_timeout``): shutdown would leave the thread doing it behind
for that long. :class:`Connections` remembers each socket the backend opens, so that
:meth:`Connections.hang_up` ends such a read at once.
"""

from __future__ import annotations

import contextlib
import socket
import time
import weakref
from typing import Any

from flagport.providers.local.url_wire import DeadlineBackend

__all__ = ["Connections"]


class Connections:
    """The sockets ``backend`` opens from now on (held weakly)."""

    def __init__(self, backend: DeadlineBackend) -> None:
        self._backend = backend
        self._sockets: weakref.WeakSet[socket.socket] = weakref.WeakSet()
        connect = backend.connect_tcp

        def connect_watched(*args: Any, **kwargs: Any) -> Any:
            stream = connect(*args, **kwargs)
            sock = stream.get_extra_info("socket")
            if sock is not None:
                self._sockets.add(sock)
            return stream

        backend.connect_tcp = connect_watched  # type: ignore[method-assign]

    def hang_up(self) -> None:
        """End the exchange in flight: its next socket operation fails, and one blocked
        now returns (the connection is shut down)."""
        self._backend.deadline = time.monotonic()
        for sock in list(self._sockets):
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
