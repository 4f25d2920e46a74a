"""Where events go, how many, and that telemetry never breaks an evaluation."""

from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import Any

import pytest
from forking import child_exit_code
from opentelemetry.sdk._logs import LoggerProvider
from otel_memory import Otel

import flagport_opentelemetry
from flagport import Flagport, User
from flagport.plugins import get_plugin_manager
from flagport_opentelemetry.observer import EvaluationTelemetry, ExposureTelemetry, Telemetry

US = User(user_id="u-42", country="US")


def _telemetry_observers() -> list[object]:
    hook = get_plugin_manager().hook
    impls = [
        *hook.flagport_after_evaluation.get_hookimpls(),
        *hook.flagport_on_event.get_hookimpls(),
    ]
    return [impl.plugin for impl in impls if isinstance(impl.plugin, Telemetry)]


def test_off_by_default_nothing_observes(client: Flagport) -> None:
    client.check_gate(US, "new_checkout")
    assert flagport_opentelemetry.current() is None
    assert _telemetry_observers() == []


def test_a_span_event_on_the_current_span_and_none_without_one(
    otel: Otel, client: Flagport
) -> None:
    otel.enable("all")
    with otel.tracer.start_as_current_span("checkout") as span:
        client.check_gate(US, "new_checkout")
    client.check_gate(US, "everyone")  # outside any span
    (finished,) = otel.spans.get_finished_spans()
    assert finished.context.span_id == span.get_span_context().span_id
    assert otel.span_events() == [
        {
            "feature_flag.key": "new_checkout",
            "feature_flag.result.variant": "true",
            "feature_flag.result.reason": "targeting_match",
            "feature_flag.provider.name": "local",
            "feature_flag.version": client.stats()["provider"]["version"],
        }
    ]
    # The logs API gets both, the first one tied to the span's trace.
    first, second = otel.logs.get_finished_logs()
    assert first.log_record.trace_id == span.get_span_context().trace_id
    assert second.log_record.attributes is not None
    assert second.log_record.attributes["feature_flag.key"] == "everyone"


def test_span_and_log_events_can_each_be_turned_off(otel: Otel, client: Flagport) -> None:
    otel.enable("all", span_events=False)
    with otel.tracer.start_as_current_span("checkout"):
        client.check_gate(US, "new_checkout")
    assert otel.span_events() == []
    assert len(otel.events()) == 1

    otel.logs.clear()
    otel.enable("all", log_events=False)
    with otel.tracer.start_as_current_span("checkout"):
        client.check_gate(US, "new_checkout")
    assert otel.events() == []
    assert len(otel.span_events()) == 1


def test_exposures_mode_records_exposures_only(otel: Otel, flags: Path) -> None:
    telemetry = otel.enable("exposures")
    assert type(telemetry) is ExposureTelemetry
    with Flagport(provider="local", path=str(flags)) as fp:
        fp.check_gate(US, "new_checkout")
        fp.get_config(US, "pricing")
        assert otel.events() == []
        # Only flagport_on_event is implemented: evaluations are not observed at all.
        assert not isinstance(telemetry, EvaluationTelemetry)
        assert _telemetry_observers() == [telemetry]
        group = fp.get_experiment(US, "button_color").group
        fp.get_experiment(US, "button_color")  # the same exposure: de-duplicated
        fp.get_experiment(US, "button_color", expose=False)
        version = fp.stats()["provider"]["version"]
    assert otel.events() == [
        {
            "feature_flag.key": "button_color",
            "feature_flag.result.variant": group,
            "feature_flag.result.reason": "split",
            "feature_flag.provider.name": "local",
            "feature_flag.version": version,
        }
    ]


def test_a_sample_rate_samples_events_and_metrics_count_every_evaluation(
    otel: Otel, client: Flagport
) -> None:
    telemetry = otel.enable(0.25)
    assert type(telemetry) is EvaluationTelemetry
    for i in range(2000):
        client.check_gate(User(user_id=str(i), country="US"), "new_checkout")
    # Binomial(2000, 0.25): mean 500, standard deviation 19; these bounds are 7 sigma.
    assert 360 < len(otel.events()) < 640
    counted = otel.points("flagport.evaluations")
    assert sum(counted.values()) == 2000


class BrokenLogger:
    """An SDK logger whose every call fails."""

    def enabled(self, **kwargs: Any) -> bool:
        raise RuntimeError("exporter exploded")

    def emit(self, *args: Any, **kwargs: Any) -> None:
        raise RuntimeError("exporter exploded")


class BrokenLoggerProvider(LoggerProvider):
    def get_logger(self, *args: Any, **kwargs: Any) -> Any:
        return BrokenLogger()


@pytest.mark.parametrize("strict", [False, True])
def test_a_failing_sdk_never_breaks_an_evaluation(
    flags: Path, caplog: pytest.LogCaptureFixture, strict: bool
) -> None:
    flagport_opentelemetry.enable("all", logger_provider=BrokenLoggerProvider())
    with (
        caplog.at_level(logging.WARNING, logger="flagport.opentelemetry"),
        Flagport(provider="local", path=str(flags), strict=strict) as fp,
    ):
        for _ in range(3):
            assert fp.check_gate(US, "new_checkout") is True
            assert fp.get_config(US, "pricing").value == {"discount": 0}
    warnings = [r for r in caplog.records if r.name == "flagport.opentelemetry"]
    assert len(warnings) == 1  # logged once, not per evaluation
    assert "exporter exploded" in warnings[0].getMessage()


def test_disable_stops_recording(otel: Otel, flags: Path) -> None:
    otel.enable("all")
    flagport_opentelemetry.disable()
    with Flagport(provider="local", path=str(flags)) as fp:
        fp.check_gate(US, "new_checkout")
    assert otel.events() == []


def test_a_child_forked_while_a_parent_thread_counts_still_counts(
    otel: Otel, client: Flagport
) -> None:
    telemetry = otel.enable("all", log_events=False, span_events=False)
    instruments = telemetry.instruments
    client.check_gate(US, "new_checkout")
    with instruments._lock:  # as if another thread were counting at the fork
        pid = os.fork()
        if pid == 0:  # the child: counting must not wait for the parent's thread
            code = 0 if client.check_gate(US, "new_checkout") else 1
            os._exit(code)
    assert child_exit_code(pid) == 0, "the forked child could not count"
