"""End to end: events and metrics exported over OTLP/HTTP to a receiver on 127.0.0.1.

The receiver decodes what arrives with the OTLP protobuf messages, as a collector does.
"""

from __future__ import annotations

import gzip
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from opentelemetry.exporter.otlp.proto.http._log_exporter import OTLPLogExporter
from opentelemetry.exporter.otlp.proto.http.metric_exporter import OTLPMetricExporter
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.proto.collector.logs.v1.logs_service_pb2 import ExportLogsServiceRequest
from opentelemetry.proto.collector.metrics.v1.metrics_service_pb2 import (
    ExportMetricsServiceRequest,
)
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.proto.common.v1.common_pb2 import AnyValue, KeyValue
from opentelemetry.sdk._logs import LoggerProvider
from opentelemetry.sdk._logs.export import BatchLogRecordProcessor
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import PeriodicExportingMetricReader
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor

import flagport_opentelemetry
from flagport import Flagport, User

MESSAGES: dict[str, Any] = {
    "/v1/logs": ExportLogsServiceRequest,
    "/v1/metrics": ExportMetricsServiceRequest,
    "/v1/traces": ExportTraceServiceRequest,
}


class Receiver(ThreadingHTTPServer):
    """An OTLP/HTTP receiver that keeps the decoded requests, by path."""

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.received: dict[str, list[Any]] = {path: [] for path in MESSAGES}

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"


class _Handler(BaseHTTPRequestHandler):
    server: Receiver

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        if self.headers.get("Content-Encoding") == "gzip":
            body = gzip.decompress(body)
        message = MESSAGES[self.path]()
        message.ParseFromString(body)
        self.server.received[self.path].append(message)
        self.send_response(200)
        self.send_header("Content-Type", "application/x-protobuf")
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture
def receiver(monkeypatch: pytest.MonkeyPatch) -> Iterator[Receiver]:
    monkeypatch.setenv("NO_PROXY", "127.0.0.1")
    server = Receiver()
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


def _value(value: AnyValue) -> Any:
    kind = value.WhichOneof("value")
    assert kind is not None, "an attribute without a value"
    return getattr(value, kind)


def _attributes(pairs: Iterator[KeyValue] | Any) -> dict[str, Any]:
    return {kv.key: _value(kv.value) for kv in pairs}


def test_events_and_metrics_arrive_over_otlp_http(receiver: Receiver, flags: Path) -> None:
    tracer_provider = TracerProvider()
    tracer_provider.add_span_processor(
        BatchSpanProcessor(OTLPSpanExporter(endpoint=f"{receiver.endpoint}/v1/traces"))
    )
    logger_provider = LoggerProvider()
    logger_provider.add_log_record_processor(
        BatchLogRecordProcessor(OTLPLogExporter(endpoint=f"{receiver.endpoint}/v1/logs"))
    )
    reader = PeriodicExportingMetricReader(
        OTLPMetricExporter(endpoint=f"{receiver.endpoint}/v1/metrics"),
        export_interval_millis=3_600_000,
    )
    meter_provider = MeterProvider(metric_readers=[reader])
    flagport_opentelemetry.enable(
        "all", meter_provider=meter_provider, logger_provider=logger_provider
    )
    user = User(user_id="u-42", country="US")
    with Flagport(provider="local", path=str(flags)) as fp:
        with tracer_provider.get_tracer("app").start_as_current_span("checkout"):
            assert fp.check_gate(user, "new_checkout")
            fp.check_gate(user, "typo")
        version = fp.stats()["provider"]["version"]
        assert tracer_provider.force_flush(10_000)
        assert logger_provider.force_flush(10_000)
        assert meter_provider.force_flush(10_000)
    tracer_provider.shutdown()
    logger_provider.shutdown()
    meter_provider.shutdown()

    expected = {
        "feature_flag.key": "new_checkout",
        "feature_flag.result.variant": "true",
        "feature_flag.result.reason": "targeting_match",
        "feature_flag.provider.name": "local",
        "feature_flag.version": version,
    }
    (traces,) = receiver.received["/v1/traces"]
    (span,) = traces.resource_spans[0].scope_spans[0].spans
    assert span.name == "checkout"
    assert [e.name for e in span.events] == ["feature_flag.evaluation"] * 2
    assert _attributes(span.events[0].attributes) == expected
    assert _attributes(span.events[1].attributes)["error.type"] == "flag_not_found"

    records = [
        record
        for request in receiver.received["/v1/logs"]
        for resource in request.resource_logs
        for scope in resource.scope_logs
        if scope.scope.name == "flagport"
        for record in scope.log_records
    ]
    assert [r.event_name for r in records] == ["feature_flag.evaluation"] * 2
    assert _attributes(records[0].attributes) == expected
    assert records[0].trace_id == span.trace_id

    metrics = {
        metric.name: metric
        for request in receiver.received["/v1/metrics"]
        for resource in request.resource_metrics
        for scope in resource.scope_metrics
        for metric in scope.metrics
    }
    assert {"flagport.evaluations", "flagport.evaluation.errors"} <= set(metrics)
    assert {"flagport.events.accepted", "flagport.events.dropped"} <= set(metrics)
    counted = {
        _attributes(point.attributes)["feature_flag.key"]: point.as_int
        for point in metrics["flagport.evaluations"].sum.data_points
    }
    assert counted == {"new_checkout": 1, "typo": 1}
    (error,) = metrics["flagport.evaluation.errors"].sum.data_points
    assert _attributes(error.attributes)["error.type"] == "flag_not_found"
