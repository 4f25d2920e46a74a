"""A TCP listener on 127.0.0.1 for test servers that answer (or do not) byte by byte."""

from __future__ import annotations

import socket
import threading


class Listener:
    """Accepts connections on a free port of 127.0.0.1 until :meth:`close`, handing each
    to :meth:`on_connection` on the accepting thread.

    :cvar thread_name: the accepting thread's name, for a test's thread dump.
    """

    thread_name = "loopback-listener"

    def __init__(self) -> None:
        self._socket = socket.create_server(("127.0.0.1", 0))
        self._socket.settimeout(0.1)  # so that close() is noticed
        self.port: int = self._socket.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self._closed = threading.Event()
        self._thread = threading.Thread(target=self._accept, name=self.thread_name, daemon=True)

    def start(self) -> None:
        """Start accepting (a subclass calls it once its own state is set)."""
        self._thread.start()

    def on_connection(self, connection: socket.socket) -> None:
        """Take a new connection (it must not block the accepting thread for long)."""
        raise NotImplementedError

    def _accept(self) -> None:
        while not self._closed.is_set():
            try:
                connection, _ = self._socket.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            self.on_connection(connection)

    def close(self) -> None:
        """Stop accepting and close the listening socket."""
        self._closed.set()
        self._thread.join(timeout=5)
        self._socket.close()
