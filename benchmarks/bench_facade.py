"""What the facade costs: check_gate through Flagport vs the provider's own call.

Run: ``uv run python benchmarks/bench_facade.py``. Prints medians of
``timeit.repeat`` in µs per call, all measured in this one process, and the
facade's overhead over the provider call (target: at most 0.25 µs), plus the
median time of ``log_event`` (target: at most 2 µs; delivery is off-thread) and
``log_event`` in plain calls with the same arguments, timed in turns with them.
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

from flagport import EventKind, Flagport, User
from flagport._records import Record
from flagport.events.pipeline import EventPipeline
from flagport.events.settings import EventSettings
from flagport.providers.passall import PassAllProvider

NUMBER = 20_000
# A plain Python call f(user, key) measured on the machine VENDORS.md's figures come from.
REFERENCE_PLAIN_CALL = 0.042
REPEAT = 9
_NO_FLAG = (None, None, None)  # a custom event: no flag kind, group or rule


def interleaved(
    ops: dict[str, Callable[[], object]], between: Callable[[], object] = lambda: None
) -> dict[str, list[float]]:
    """µs per call of each operation, measured in turns (so load drift hits all alike);
    ``between`` runs, untimed, after each measurement."""
    samples: dict[str, list[float]] = {name: [] for name in ops}
    for _ in range(REPEAT):
        for name, fn in ops.items():
            samples[name].append(timeit.timeit(fn, number=NUMBER) / NUMBER * 1e6)
            between()
    return samples


def sink_throughput(path: Path, user: User, n: int = 200_000) -> float:
    """Events/s the jsonl sink's worker converts, serialises and writes (queue filled first)."""
    settings = EventSettings(sinks=["jsonl"], jsonl_path=path, max_queue=n)
    pipeline = EventPipeline(settings, provider=lambda: PassAllProvider(PassAllProvider.Options()))
    worker = pipeline.workers[0]
    for i in range(n):
        metadata = {"sku": "A1", "i": i}
        record = Record(
            time.time(), EventKind.CUSTOM, user, "purchase", 9.99, metadata, "passall", *_NO_FLAG
        )
        worker.queue.append(pipeline.prepare(record))
    start = time.perf_counter()
    worker._drain()  # the worker thread's own loop body, run here without a producer
    elapsed = time.perf_counter() - start
    worker.sink.close()
    assert worker.delivered == n
    return n / elapsed


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

    def plain_event(user: User, name: str, value: float, metadata: dict[str, str]) -> None:
        return None

    # Events held in the queue while timed (a batch larger than all of them, a long
    # interval): the caller's own cost, without the worker's delivery competing for the GIL.
    held = {"sinks": [lambda event: None], "max_queue": NUMBER, "flush_interval": 3600}
    queued = Flagport(provider="passall", events={**held, "batch_size": NUMBER})
    samples = interleaved(
        {
            "plain function f(user, name)": lambda: plain(user, "new_checkout"),
            "provider.check_gate (passall)": lambda: provider.check_gate(user, "new_checkout"),
            "Flagport.check_gate (passall)": lambda: fp.check_gate(user, "new_checkout"),
            "plain function f(user, name, value, metadata)": lambda: plain_event(
                user, "purchase", 9.99, {"sku": "A1"}
            ),
            "Flagport.log_event (queued)": lambda: queued.log_event(
                user, "purchase", 9.99, {"sku": "A1"}
            ),
        },
        between=lambda: queued.flush(30),  # delivered between measurements, not during
    )
    queued.shutdown()
    rows = {name: statistics.median(values) for name, values in samples.items()}
    log_calls = statistics.median(
        e / p
        for e, p in zip(
            samples["Flagport.log_event (queued)"],
            samples["plain function f(user, name, value, metadata)"],
            strict=True,
        )
    )
    overhead = statistics.median(
        f - p
        for f, p in zip(
            samples["Flagport.check_gate (passall)"],
            samples["provider.check_gate (passall)"],
            strict=True,
        )
    )
    with tempfile.TemporaryDirectory() as tmp:
        sink = {"sinks": ["jsonl"], "jsonl_path": Path(tmp) / "e.jsonl", "max_queue": 100_000}
        with Flagport(provider="passall", events=sink) as events_fp:
            log_median = log_event_median(events_fp, user)
        throughput = sink_throughput(Path(tmp) / "sink.jsonl", user)

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
    plain_call = rows["plain function f(user, name)"]
    console.print(
        f"  = {overhead / plain_call:.1f} plain function calls of this run "
        f"({plain_call:.3f} µs each; on the reference machine of VENDORS.md a plain call "
        f"is {REFERENCE_PLAIN_CALL} µs, so 0.25 µs there is "
        f"{0.25 / REFERENCE_PLAIN_CALL:.1f} calls)"
    )
    console.print(
        f"log_event median {log_median:.3f} µs (target ≤ 2): "
        f"{'MET' if log_median <= 2 else 'NOT MET'}"
    )
    console.print(
        f"  = {log_median / plain_call:.1f} plain function calls of this run (2 µs on the "
        f"reference machine is {2 / REFERENCE_PLAIN_CALL:.1f} calls)"
    )
    console.print(
        f"  log_event (queued) = {log_calls:.1f} plain function calls with the same "
        "arguments, in turns with them"
    )
    console.print(
        f"jsonl sink draining its queue: {throughput:,.0f} events/s "
        f"(target ≥ 100,000): {'MET' if throughput >= 100_000 else 'NOT MET'}"
    )
    fp.shutdown()


if __name__ == "__main__":
    main()
