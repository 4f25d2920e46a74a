"""The observers that turn evaluations into OpenTelemetry signals.

Two classes, so that the hooks a mode does not need are not implemented at all: a
client resolves its observers once, and an implemented ``flagport_after_evaluation``
makes every evaluation build its whole result. :class:`ExposureTelemetry` ("exposures")
implements only ``flagport_on_event``, which runs when an exposure is logged;
:class:`EvaluationTelemetry` ("all" or a sample rate) sees every evaluation.

Nothing here raises into the application: a failure of the OpenTelemetry SDK (or of an
exporter it calls synchronously) is logged once and the evaluation goes on.
"""

from __future__ import annotations

import logging
import random
from typing import Any

from opentelemetry import trace
from opentelemetry._logs import Logger, LoggerProvider, get_logger
from opentelemetry.metrics import MeterProvider, get_meter
from opentelemetry.trace import Span

from flagport.events.model import Event, EventKind
from flagport.hookspecs import hookimpl
from flagport.results import Result
from flagport.user import User
from flagport_opentelemetry.attributes import (
    EVENT_NAME,
    PROVIDER_NAME,
    VERSION,
    for_exposure,
    for_result,
    result_series,
    series,
)
from flagport_opentelemetry.metrics import Instruments
from flagport_opentelemetry.options import OpenTelemetrySettings
from flagport_opentelemetry.versions import DefinitionVersions

__all__ = ["SCOPE", "EvaluationTelemetry", "ExposureTelemetry", "Telemetry"]

logger = logging.getLogger("flagport.opentelemetry")
#: The instrumentation scope name of every signal.
SCOPE = "flagport"


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("flagport-opentelemetry")
    except PackageNotFoundError:  # pragma: no cover - running from a source tree
        return "0"


class Telemetry:
    """Records ``feature_flag.evaluation`` events and metrics; see the subclasses.

    :param settings: what to record.
    :param meter_provider: where metrics go (the global one by default).
    :param logger_provider: where log-based events go (the global one by default).
    """

    def __init__(
        self,
        settings: OpenTelemetrySettings,
        *,
        meter_provider: MeterProvider | None = None,
        logger_provider: LoggerProvider | None = None,
    ) -> None:
        self.settings = settings
        version = _version()
        self._failed = False
        self.instruments: Instruments | None = None
        if settings.metrics:
            try:
                self.instruments = Instruments(get_meter(SCOPE, version, meter_provider))
            except Exception as exc:  # a broken meter provider costs the metrics only
                self._failure(exc)
        self._logger: Logger | None = (
            get_logger(SCOPE, version, logger_provider) if settings.log_events else None
        )
        self._span_events = settings.span_events
        self._rate = settings.sample_rate
        self._versions = DefinitionVersions()

    def targets(self) -> tuple[Span | None, Logger | None]:
        """Where an event would go now: the current span if it records, the logger if it
        is enabled. Neither means the event's attributes need not be built at all."""
        span = trace.get_current_span() if self._span_events else None
        if span is not None and not span.is_recording():
            span = None
        log = self._logger
        if log is not None and not log.enabled(event_name=EVENT_NAME):
            log = None
        return span, log

    def emit(self, attributes: dict[str, Any], span: Span | None, log: Logger | None) -> None:
        """Emit one ``feature_flag.evaluation`` event to the targets :meth:`targets` gave."""
        version = self._versions.get(attributes.get(PROVIDER_NAME))
        if version is not None:
            attributes[VERSION] = version
        if span is not None:
            span.add_event(EVENT_NAME, attributes)
        if log is not None:
            log.emit(event_name=EVENT_NAME, attributes=attributes)

    def _failure(self, exc: Exception) -> None:
        # Once: an SDK that fails on one evaluation fails on all of them.
        if not self._failed:
            self._failed = True
            logger.warning(
                "flagport: recording a feature_flag.evaluation in OpenTelemetry failed "
                "(%s: %s); evaluations go on, telemetry may be incomplete",
                type(exc).__name__,
                exc,
            )

    def close(self) -> None:
        """Stop the observable metrics of this installation."""
        if self.instruments is not None:
            self.instruments.close()

    def __repr__(self) -> str:
        return f"<{type(self).__name__} record={self.settings.record!r}>"


class ExposureTelemetry(Telemetry):
    """Records exposures only: what the application logged as seen by a user."""

    @hookimpl
    def flagport_on_event(self, event: Event) -> None:
        if event.kind is not EventKind.EXPOSURE:
            return
        try:
            attributes = for_exposure(event, self.settings)
            if self.instruments is not None:
                self.instruments.count(series(attributes))
            span, log = self.targets()
            if span is not None or log is not None:
                self.emit(attributes, span, log)
        except Exception as exc:
            self._failure(exc)


class EvaluationTelemetry(Telemetry):
    """Records every evaluation, or a random sample of them (metrics count every one)."""

    @hookimpl
    def flagport_after_evaluation(self, user: User, result: Result, kind: str) -> None:
        try:
            if self.instruments is not None:
                self.instruments.count(result_series(result))
            if self._rate < 1.0 and random.random() >= self._rate:
                return
            span, log = self.targets()
            if span is not None or log is not None:
                self.emit(for_result(user, result, self.settings), span, log)
        except Exception as exc:
            self._failure(exc)
