"""Worker processes of one host, each with its own flagport client reading one URL.

Used by the one-poller-per-host test and benchmark: each worker is a separate process
(``multiprocessing``, forked, as a pre-forking server's workers are), tells the server
who it is in an ``X-Worker`` header, and reports on a queue every version it starts
serving, with its role and the time it noticed.
"""

from __future__ import annotations

import multiprocessing
import os
import time
from dataclasses import dataclass
from typing import Any

from url_helpers import USER, flags

from flagport import Flagport

__all__ = ["Seen", "Workers", "flags", "work"]


@dataclass(frozen=True)
class Seen:
    """A worker started serving ``version`` at ``at`` (``time.time()``)."""

    worker: int
    pid: int
    version: Any
    role: str
    at: float


def work(index: int, url: str, cache_path: str, interval: float, reports: Any, stop: Any) -> None:
    """Evaluate every 5 ms until ``stop`` is set; report each new version seen."""
    fp = Flagport(
        provider="local",
        url=url,
        cache_path=cache_path,
        poll_interval=interval,
        timeout=30,
        headers={"X-Worker": str(os.getpid())},
    )
    last = None
    try:
        while not stop.is_set():
            version = fp.get_config(USER, "release").value.get("version")
            if version != last:
                role = fp.stats()["provider"].get("url", {}).get("role", "?")
                reports.put(Seen(index, os.getpid(), version, role, time.time()))
                last = version
            time.sleep(0.005)
    finally:
        fp.shutdown()


class Workers:
    """``count`` worker processes; ``stop()`` ends them."""

    def __init__(self, count: int, url: str, cache_path: str, interval: float) -> None:
        context = multiprocessing.get_context("fork")
        self.reports: Any = context.Queue()
        self.stop_event: Any = context.Event()
        self.processes = [
            context.Process(
                target=work,
                args=(i, url, cache_path, interval, self.reports, self.stop_event),
                daemon=True,
            )
            for i in range(count)
        ]
        self.latest: dict[int, Seen] = {}

    def start(self) -> None:
        for process in self.processes:
            process.start()

    def collect(self, until: Any, timeout: float = 120.0) -> list[Seen]:
        """Read reports until ``until(latest)`` holds; every report read, in order."""
        seen: list[Seen] = []
        deadline = time.monotonic() + timeout
        while not until(self.latest):
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError(f"workers reported {sorted(self.latest.items())}")
            try:
                report: Seen = self.reports.get(timeout=min(left, 1.0))
            except Exception:  # queue.Empty
                continue
            self.latest[report.worker] = report
            seen.append(report)
        return seen

    def all_serve(self, version: Any, among: set[int] | None = None) -> Any:
        wanted = among if among is not None else set(range(len(self.processes)))

        def check(latest: dict[int, Seen]) -> bool:
            return all(i in latest and latest[i].version == version for i in wanted)

        return check

    def stop(self) -> None:
        self.stop_event.set()
        for process in self.processes:
            process.join(10)
            if process.is_alive():
                process.kill()
                process.join(5)
