"""An OpenTelemetry SDK whose traces, logs and metrics stay in memory (tests/opentelemetry)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from opentelemetry.sdk._logs import LoggerProvider
from opentelemetry.sdk._logs.export import InMemoryLogRecordExporter, SimpleLogRecordProcessor
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import InMemoryMetricReader, NumberDataPoint
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

import flagport_opentelemetry


@dataclass
class Otel:
    """An OpenTelemetry SDK whose signals stay in memory."""

    spans: InMemorySpanExporter = field(default_factory=InMemorySpanExporter)
    logs: InMemoryLogRecordExporter = field(default_factory=InMemoryLogRecordExporter)
    reader: InMemoryMetricReader = field(default_factory=InMemoryMetricReader)

    def __post_init__(self) -> None:
        self.tracer_provider = TracerProvider()
        self.tracer_provider.add_span_processor(SimpleSpanProcessor(self.spans))
        self.tracer = self.tracer_provider.get_tracer("tests")
        self.logger_provider = LoggerProvider()
        self.logger_provider.add_log_record_processor(SimpleLogRecordProcessor(self.logs))
        self.meter_provider = MeterProvider(metric_readers=[self.reader])

    def enable(self, record: str | float = "all", **options: Any) -> Any:
        return flagport_opentelemetry.enable(
            record,
            meter_provider=self.meter_provider,
            logger_provider=self.logger_provider,
            **options,
        )

    def events(self) -> list[dict[str, Any]]:
        """The attributes of each feature_flag.evaluation log event, in order."""
        return [
            dict(r.log_record.attributes or {})
            for r in self.logs.get_finished_logs()
            if r.log_record.event_name == "feature_flag.evaluation"
        ]

    def span_events(self) -> list[dict[str, Any]]:
        return [
            dict(e.attributes or {})
            for span in self.spans.get_finished_spans()
            for e in span.events
            if e.name == "feature_flag.evaluation"
        ]

    def points(self, metric: str) -> dict[frozenset[tuple[str, Any]], int | float]:
        """Each data point of ``metric``: its attributes -> its value."""
        found: dict[frozenset[tuple[str, Any]], int | float] = {}
        data = self.reader.get_metrics_data()
        for resource in data.resource_metrics if data else []:
            for scope in resource.scope_metrics:
                for m in scope.metrics:
                    if m.name == metric:
                        for point in m.data.data_points:
                            assert isinstance(point, NumberDataPoint), "a sum or a gauge"
                            found[frozenset((point.attributes or {}).items())] = point.value
        return found
