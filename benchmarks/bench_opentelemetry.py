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
from flagport import Flagport, User, plugins
from flagport_opentelemetry.plugin import PLUGIN_NAME

NUMBER = 10_000
REPEAT = 15
TARGET = 1.10
FLAGS = """
gates:
  new_checkout:
    rules: [{id: us, when: {country: US}}, {id: rollout, pass_percentage: 50}]
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
) -> dict[str, list[float]]:
    """µs per evaluation of each operation, measured in turns, the order reversed every
    turn (so load drift hits all alike); ``per_call``: evaluations per call of an op."""
    samples: dict[str, list[float]] = {name: [] for name in ops}
    items = list(ops.items())
    for turn in range(REPEAT):
        for name, fn in items if turn % 2 == 0 else reversed(items):
            samples[name].append(timeit.timeit(fn, number=number) / number / per_call * 1e6)
    return samples


def median(values: list[float]) -> float:
    return statistics.median(values)


def ratio(a: list[float], b: list[float]) -> float:
    """The median of the per-turn ratios a/b: each pair was measured side by side."""
    return statistics.median(x / y for x, y in zip(a, b, strict=True))


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

    # The same client with the "exposures" observer registered and not, in turns: two
    # client objects differ by more than telemetry does on a loaded machine (two
    # identical clients measured a third apart), and the observer is all that "exposures" adds.
    telemetry = flagport_opentelemetry.enable("exposures", **sdk)
    exposures = started(path)
    gate: dict[str, list[float]] = {"plain": [], "off": [], "exposures": []}
    for turn in range(REPEAT):
        for mode in ("exposures", "off") if turn % 2 else ("off", "exposures"):
            if mode == "off":
                plugins.unregister_plugin(telemetry)
            elif not plugins.get_plugin_manager().is_registered(telemetry):
                plugins.register_plugin(telemetry, name=PLUGIN_NAME)
            call = timeit.timeit(lambda: exposures.check_gate(user, "new_checkout"), number=NUMBER)
            gate[mode].append(call / NUMBER * 1e6)
        gate["plain"].append(timeit.timeit(lambda: len(FLAGS), number=NUMBER) / NUMBER * 1e6)
    exposures_ratio = ratio(gate["exposures"], gate["off"])

    flagport_opentelemetry.disable()
    off = started(path)
    flagport_opentelemetry.enable("all", **sdk)
    every = started(path)
    flagport_opentelemetry.enable("all", span_events=False, log_events=False, **sdk)
    own = interleaved(
        {
            "off": lambda: off.check_gate(user, "new_checkout"),
            "all": lambda: every.check_gate(user, "new_checkout"),
        }
    )
    flagport_opentelemetry.enable("all", **sdk)
    everything = interleaved(
        {
            "off": lambda: off.check_gate(user, "new_checkout"),
            "all": lambda: every.check_gate(user, "new_checkout"),
        }
    )

    def in_span(fp: Flagport) -> Callable[[], None]:
        def run() -> None:
            with tracer.start_as_current_span("request"):
                for _ in range(100):
                    fp.check_gate(user, "new_checkout")

        return run

    spans = interleaved(
        {"off": in_span(off), "all": in_span(every)}, number=NUMBER // 100, per_call=100
    )
    flagport_opentelemetry.disable()
    for fp in (off, exposures, every):
        fp.shutdown()
    logger_provider.shutdown()

    plain = median(gate["plain"])
    print(f"check_gate, local provider, median of {REPEAT} turns x {NUMBER:,} calls (µs per call)")
    print("'exposures' mode: one client, its observer registered and not, in turns")
    print(f"  a plain Python call          {plain:8.3f}   (the machine's speed, for scale)")
    print(f"  telemetry off                {median(gate['off']):8.3f}")
    print(
        f"  'exposures' mode             {median(gate['exposures']):8.3f}   "
        f"ratio {exposures_ratio:.3f}"
    )
    verdict = "ok" if exposures_ratio <= TARGET else "OVER TARGET"
    print(f"  target: 'exposures' at most {TARGET:.2f}x off: {verdict}")
    print("'all' mode, cost per evaluation over telemetry off:")
    for label, figures in (
        ("observer and metrics, no event", own),
        ("metrics + log event, no span", everything),
        ("metrics + log event + span event", spans),
    ):
        extra = median(figures["all"]) - median(figures["off"])
        print(f"  {label:<38} +{extra:8.2f} µs  ({extra / plain:5.0f} plain calls)")
    return 0 if exposures_ratio <= TARGET else 1


if __name__ == "__main__":
    sys.exit(main())
