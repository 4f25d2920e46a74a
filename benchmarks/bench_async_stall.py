"""How long the event loop stalls while vendor providers start against a silent server.

Run: ``uv run python benchmarks/bench_async_stall.py``. For each vendor SDK (Statsig,
GrowthBook, FeatBit) and each loop (asyncio, uvloop), a client whose vendor server
accepts connections and never answers is used on the loop: an evaluation before it is
ready (served its default with ``PROVIDER_NOT_READY``), then ``await fp.start()``, which
waits for the SDK's start-up timeout off the loop. A ticker coroutine sleeping 1 ms at
a time records the longest gap between its ticks: the loop's longest stall (goal: under
5 ms). For reference, in the same run: the longest gap of the idle loop (what the
machine's own load costs), and the same start made the synchronous way on the loop's
thread (``fp.provider``), which stalls the loop for the whole start-up timeout.
"""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Callable
from contextlib import closing
from pathlib import Path
from typing import Any

import uvloop
from rich.console import Console
from rich.table import Table

from flagport import Flagport, User

sys.path.insert(0, str(Path(__file__).parents[1] / "tests" / "support"))
from silent_server import SilentServer, vendor_options, watch_the_loop

VENDORS = ("statsig", "growthbook", "featbit")
LOOPS: dict[str, Callable[[], asyncio.AbstractEventLoop] | None] = {
    "asyncio": None,
    "uvloop": uvloop.new_event_loop,
}
START_TIMEOUT = 0.5  # seconds each SDK waits for its silent server
GOAL_MS = 5.0
USER = User(user_id="42")


async def async_start(fp: Flagport) -> Any:
    fp.check_gate(USER, "new_checkout")  # before ready: the default, the start begins
    await fp.start()


async def blocking_start(fp: Flagport) -> Any:
    return fp.provider  # the synchronous start, on the loop's thread


def stall_ms(vendor: str, loop: str, how: Callable[[Flagport], Any]) -> float:
    """The longest gap between ticks, in ms, while ``how`` starts ``vendor``'s provider."""
    with closing(SilentServer()) as server:
        fp = Flagport(vendor, strict=False, **vendor_options(vendor, server, START_TIMEOUT))

        async def main() -> float:
            _, watch = await watch_the_loop(lambda: how(fp))
            await fp.aclose(timeout=5)
            return watch.longest * 1000

        with asyncio.Runner(loop_factory=LOOPS[loop]) as runner:
            return runner.run(main())


def idle_ms(loop: str) -> float:
    """The longest gap between ticks while the loop has nothing else to do, in ms."""

    async def main() -> float:
        _, watch = await watch_the_loop(lambda: asyncio.sleep(START_TIMEOUT))
        return watch.longest * 1000

    with asyncio.Runner(loop_factory=LOOPS[loop]) as runner:
        return runner.run(main())


def main() -> None:
    title = f"the event loop's longest stall while a provider starts (ms; goal < {GOAL_MS})"
    table = Table(title=title)
    table.add_column("vendor")
    table.add_column("loop")
    table.add_column("await fp.start()", justify="right")
    table.add_column("idle loop (baseline)", justify="right")
    table.add_column("fp.provider on the loop", justify="right")
    worst = 0.0
    for vendor in VENDORS:
        for loop in LOOPS:
            stalled = stall_ms(vendor, loop, async_start)
            blocked = stall_ms(vendor, loop, blocking_start)
            idle = idle_ms(loop)
            worst = max(worst, stalled)
            table.add_row(vendor, loop, f"{stalled:.1f}", f"{idle:.1f}", f"{blocked:.1f}")
    console = Console()
    console.print(table)
    console.print(
        f"longest stall with the async lifecycle: {worst:.1f} ms (goal < {GOAL_MS} ms): "
        f"{'MET' if worst < GOAL_MS else 'NOT MET'}"
    )


if __name__ == "__main__":
    main()
