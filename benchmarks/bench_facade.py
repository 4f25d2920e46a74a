"""What the facade costs: check_gate through Flagport vs the provider's own call.

Run: ``uv run python benchmarks/bench_facade.py``. Prints medians of
``timeit.repeat`` in µs per call, all measured in this one process, and the
facade's overhead over the provider call (target: at most 0.25 µs), plus the
median time of ``log_event`` (target: at most 2 µs; delivery is off-thread).
"""

from __future__ import annotations

import statistics
import tempfile
import time
import timeit
from collections.abc import Callable
from pathlib import Path

from rich.console import Console
from rich.table import Table

from flagport import Flagport, User

NUMBER = 20_000
REPEAT = 9


def per_call(fn: Callable[[], object]) -> float:
    """Median µs per call over REPEAT runs of NUMBER calls."""
    return statistics.median(timeit.repeat(fn, number=NUMBER, repeat=REPEAT)) / NUMBER * 1e6


def log_event_median(fp: Flagport, user: User, calls: int = 50_000) -> float:
    """Median µs of single log_event calls, timed one by one (background worker running)."""
    clock = time.perf_counter_ns
    samples = []
    for i in range(calls):
        start = clock()
        fp.log_event(user, "purchase", 9.99, {"sku": "A1"})
        samples.append(clock() - start)
        if i % 10_000 == 9_999:
            fp.flush(30)
    return statistics.median(samples) / 1000


def main() -> None:
    user = User(user_id="42", country="DE")
    fp = Flagport(provider="passall")
    provider = fp.provider

    def plain(user: User, name: str) -> bool:
        return True

    rows = {
        "plain function f(user, name)": per_call(lambda: plain(user, "new_checkout")),
        "provider.check_gate (passall)": per_call(lambda: provider.check_gate(user, "new_checkout")),
        "Flagport.check_gate (passall)": per_call(lambda: fp.check_gate(user, "new_checkout")),
    }
    overhead = rows["Flagport.check_gate (passall)"] - rows["provider.check_gate (passall)"]
    with tempfile.TemporaryDirectory() as tmp:
        sink = {"sinks": ["jsonl"], "jsonl_path": Path(tmp) / "e.jsonl", "max_queue": 100_000}
        with Flagport(provider="passall", events=sink) as events_fp:
            log_median = log_event_median(events_fp, user)
            start = time.perf_counter()
            n = 200_000
            for _ in range(n // 50_000):
                for _ in range(50_000):
                    events_fp.log_event(user, "purchase", 9.99)
                events_fp.flush(60)
            throughput = n / (time.perf_counter() - start)

    table = Table(title="flagport facade (µs per call, median)")
    table.add_column("operation")
    table.add_column("µs/call", justify="right")
    for name, value in rows.items():
        table.add_row(name, f"{value:.3f}")
    table.add_row("facade overhead over the provider", f"{overhead:.3f}")
    table.add_row("log_event (median single call)", f"{log_median:.3f}")
    console = Console()
    console.print(table)
    console.print(
        f"facade overhead {overhead:.3f} µs (target ≤ 0.25): "
        f"{'MET' if overhead <= 0.25 else 'NOT MET'}"
    )
    console.print(
        f"log_event median {log_median:.3f} µs (target ≤ 2): "
        f"{'MET' if log_median <= 2 else 'NOT MET'}"
    )
    console.print(
        f"jsonl sink, logged and flushed end to end: {throughput:,.0f} events/s "
        f"(target ≥ 100,000): {'MET' if throughput >= 100_000 else 'NOT MET'}"
    )
    fp.shutdown()


if __name__ == "__main__":
    main()
