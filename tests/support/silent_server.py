"""A vendor server that does not answer, and a measure of how long an event loop stalls.

:class:`SilentServer` accepts TCP connections on 127.0.0.1 and never sends a byte, as a
vendor endpoint behind a broken proxy does: a vendor SDK starting against it waits for
its own start-up timeout. :func:`watch_the_loop` measures the longest gap between the
ticks of a coroutine that sleeps 1 ms at a time, while the caller's coroutine runs.
Shared by ``tests/core/test_async.py`` and ``benchmarks/bench_async_stall.py``.
"""

from __future__ import annotations

import asyncio
import socket
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

from loopback import Listener

T = TypeVar("T")


class SilentServer(Listener):
    """Accepts connections and holds them open, unanswered, until :meth:`close`
    (``with contextlib.closing(SilentServer()) as server:``)."""

    thread_name = "silent-server"

    def __init__(self) -> None:
        super().__init__()
        self.accepted = 0
        self._held: list[socket.socket] = []
        self.start()

    def on_connection(self, connection: socket.socket) -> None:
        self.accepted += 1
        self._held.append(connection)

    def close(self) -> None:
        super().close()
        for connection in self._held:
            connection.close()


def vendor_options(vendor: str, server: SilentServer, timeout: float = 1.0) -> dict[str, Any]:
    """Options pointing ``vendor``'s provider at ``server``, giving up after ``timeout`` s."""
    if vendor == "statsig":
        return {
            "server_secret": "secret-silent",
            "specs_url": f"{server.url}/v2/download_config_specs",
            "log_event_url": f"{server.url}/v1/log_event",
            "init_timeout_ms": int(timeout * 1000),
        }
    if vendor == "growthbook":
        return {
            "client_key": "sdk-silent",
            "api_host": server.url,
            "init_timeout": timeout,
            "http_timeout": timeout,
        }
    if vendor == "featbit":
        return {
            "env_secret": "silent-secret",
            "streaming_url": f"ws://127.0.0.1:{server.port}",
            "event_url": server.url,
            "start_wait": timeout,
            "connect_timeout": timeout,
        }
    raise ValueError(f"no options for {vendor!r}")


@dataclass
class LoopWatch:
    """What :func:`watch_the_loop` saw: the gaps between ticks, in seconds."""

    gaps: list[float] = field(default_factory=list)

    @property
    def longest(self) -> float:
        return max(self.gaps, default=0.0)


async def watch_the_loop(work: Callable[[], Awaitable[T]]) -> tuple[T, LoopWatch]:
    """Run ``work()`` while a ticker records how long the loop went without running it.

    A gap is the time between two ticks of a coroutine asking to sleep 1 ms: about 1 ms
    on a free loop, more while something blocks the loop's thread.
    """
    watch = LoopWatch()
    stop = asyncio.Event()

    async def ticker() -> None:
        last = time.perf_counter()
        while not stop.is_set():
            await asyncio.sleep(0.001)
            now = time.perf_counter()
            watch.gaps.append(now - last)
            last = now

    ticking = asyncio.create_task(ticker())
    await asyncio.sleep(0)  # the ticker is running before the work starts
    try:
        result = await work()
    finally:
        stop.set()
        await ticking
    return result, watch
