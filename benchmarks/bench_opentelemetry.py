"""What OpenTelemetry costs an evaluation: ``check_gate`` with telemetry off, in
"exposures" mode and in "all" mode, against the local provider, in one process.

Run: ``uv run python benchmarks/bench_opentelemetry.py``. Prints medians of
``timeit.repeat`` in µs per call. Target: in "exposures" mode ``check_gate`` costs at
most 1.1x its cost with telemetry off (gates log no exposure with the local provider, and
no evaluation observer is installed, so the fast path stays). In "all" mode every
evaluation records a ``feature_flag.evaluation`` event (through an OpenTelemetry SDK
whose exporter discards what it is given) and counts it in a metric: the figure printed
is that cost per evaluation, outside a span and inside a recording span.
"""

from __future__ import annotations

import statistics
import sys
import tempfile
import timeit
from collections.abc import Callable, Sequence
from pathlib import Path

from opentelemetry.sdk._logs import LoggerProvider, ReadableLogRecord
from opentelemetry.sdk._logs.export import (
    BatchLogRecordProcessor,
    LogRecordExporter,
    LogRecordExportResult,
)
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import InMemoryMetricReader
from opentelemetry.sdk.trace import TracerProvider

import flagport_opentelemetry
from flagport import Flagport, User

NUMBER = 20_000
REPEAT = 9
TARGET = 1.10
FLAGS = """
gates:
  new_checkout:
    rules:
      - {id: us, when: {country: US}}
      - {id: rollout, pass_percentage: 50}
experiments:
  button_color:
    groups:
      - {name: control, weight: 50, value: {color: gray}}
      - {name: blue, weight: 50, value: {color: blue}}
"""


class Discard(LogRecordExporter):
    """An exporter that sends nowhere: the SDK's own work is what is measured."""

    def export(self, batch: Sequence[ReadableLogRecord]) -> LogRecordExportResult:
        return LogRecordExportResult.SUCCESS

    def shutdown(self) -> None:
        pass

    def force_flush(self, timeout_millis: int = 30_000) -> bool:
        return True


def interleaved(
    ops: dict[str, Callable[[], object]], number: int = NUMBER, per_call: int = 1
) -> dict[str, float]:
    """Median µs per evaluation of each operation, measured in turns (load drift hits all
    alike); ``per_call`` is the number of evaluations one call of an operation makes."""
    samples: dict[str, list[float]] = {name: [] for name in ops}
    for _ in range(REPEAT):
        for name, fn in ops.items():
            samples[name].append(timeit.timeit(fn, number=number) / number / per_call * 1e6)
    return {name: statistics.median(values) for name, values in samples.items()}


def started(path: Path) -> Flagport:
    fp = Flagport(provider="local", path=str(path))
    fp.check_gate(User(user_id="warm-up"), "new_checkout")
    return fp


def main() -> int:
    directory = Path(tempfile.mkdtemp())
    path = directory / "flags.yaml"
    path.write_text(FLAGS)
    user = User(user_id="u-42", country="FR", app_version="2.3.1")
    logger_provider = LoggerProvider()
    logger_provider.add_log_record_processor(BatchLogRecordProcessor(Discard()))
    sdk = {
        "meter_provider": MeterProvider(metric_readers=[InMemoryMetricReader()]),
        "logger_provider": logger_provider,
    }
    tracer = TracerProvider().get_tracer("bench")

    off = started(path)
    flagport_opentelemetry.enable("exposures", **sdk)
    exposures = started(path)
    figures = interleaved(
        {
            "plain": lambda: len(FLAGS),
            "off": lambda: off.check_gate(user, "new_checkout"),
            "exposures": lambda: exposures.check_gate(user, "new_checkout"),
        }
    )
    ratio = figures["exposures"] / figures["off"]

    flagport_opentelemetry.enable("all", **sdk)
    every = started(path)

    def in_span() -> None:
        with tracer.start_as_current_span("request"):
            for _ in range(100):
                every.check_gate(user, "new_checkout")

    def span_only() -> None:
        with tracer.start_as_current_span("request"):
            for _ in range(100):
                off.check_gate(user, "new_checkout")

    all_mode = interleaved(
        {
            "off": lambda: off.check_gate(user, "new_checkout"),
            "all": lambda: every.check_gate(user, "new_checkout"),
        }
    )
    spans = interleaved(
        {"span, off": span_only, "span, all": in_span}, number=NUMBER // 100, per_call=100
    )
    flagport_opentelemetry.disable()
    for fp in (off, exposures, every):
        fp.shutdown()
    logger_provider.shutdown()

    print(f"check_gate, local provider, median of {REPEAT} x {NUMBER:,} calls (µs per call)")
    plain = figures["plain"]
    print(f"  a plain Python call        {plain:8.3f}   (the machine's speed, for scale)")
    print(f"  telemetry off              {figures['off']:8.3f}")
    print(f"  'exposures' mode           {figures['exposures']:8.3f}   ratio {ratio:.3f}")
    verdict = "ok" if ratio <= TARGET else "OVER TARGET"
    print(f"  target: 'exposures' at most {TARGET:.2f}x off: {verdict}")
    per_event = all_mode["all"] - all_mode["off"]
    print(
        f"  'all' mode, no span        {all_mode['all']:8.3f}   (+{per_event:.2f} µs/evaluation, "
        f"{per_event / plain:.0f} plain calls)"
    )
    in_span_cost = spans["span, all"] - spans["span, off"]
    print(
        f"  'all' mode, in a span                 (+{in_span_cost:.2f} µs/evaluation, "
        f"{in_span_cost / plain:.0f} plain calls)"
    )
    return 0 if ratio <= TARGET else 1


if __name__ == "__main__":
    sys.exit(main())
