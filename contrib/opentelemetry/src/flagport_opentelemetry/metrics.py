"""Metrics: evaluations and errors as counters, the event pipeline's counters observed.

Instrument names are flagport's own (the semantic conventions define no feature-flag
metrics); their attributes use the conventions' names.

Evaluations are counted in a dict under a lock and reported through observable
counters when the metric reader collects: an SDK counter's ``add`` costs dozens of
plain calls (it hashes the attributes on every call), which an evaluation should not
pay. The pipeline's counters are read from every live client at collection too.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from opentelemetry.metrics import CallbackOptions, Meter, Observation

from flagport._fork import reset_in_child
from flagport._lifecycle import live_clients
from flagport_opentelemetry._locks import fork_safe_lock
from flagport_opentelemetry.attributes import ERROR_TYPE, KEY, PROVIDER_NAME, REASON, VARIANT

__all__ = ["MAX_SERIES", "PIPELINE_COUNTERS", "SINK", "Instruments", "pipeline_totals"]

#: The attribute naming an event sink (``provider``, ``jsonl``…).
SINK = "flagport.events.sink"
#: The pipeline counters reported, each as ``flagport.events.<name>``.
PIPELINE_COUNTERS = ("accepted", "delivered", "failed", "dropped")
#: Most distinct attribute sets counted, as the SDK's own cardinality limit: flag names
#: come from callers, and a caller can make up any number of them. Beyond it, counts go
#: to one series marked ``otel.metric.overflow``, as the SDK does.
MAX_SERIES = 2000
_OVERFLOW: Any = ("", None, None, None, None)
#: (flag, variant, reason, provider, error type): one evaluation's series.
Series = tuple[str, str | None, str | None, str | None, str | None]


def pipeline_totals() -> dict[str, dict[str, int]]:
    """The event pipeline's counters summed over every live client, by sink name."""
    totals: dict[str, dict[str, int]] = {}
    for client in live_clients():
        for sink, counters in client.events.stats().items():
            into = totals.setdefault(sink, {})
            for name, value in counters.items():
                into[name] = into.get(name, 0) + value
    return totals


def _labels(series: Series) -> dict[str, Any]:
    if series is _OVERFLOW:
        return {"otel.metric.overflow": True}
    key, variant, reason, provider, _ = series
    labels: dict[str, Any] = {KEY: key}
    if variant is not None:
        labels[VARIANT] = variant
    if reason is not None:
        labels[REASON] = reason
    if provider is not None:
        labels[PROVIDER_NAME] = provider
    return labels


class Instruments:
    """The instruments of one installation; :meth:`close` silences them.

    :param meter: where the instruments are created.
    """

    def __init__(self, meter: Meter) -> None:
        self.active = True
        self._counts: dict[Series, int] = {}
        self._lock = fork_safe_lock(self)
        # A forked worker reports its own evaluations: counts inherited from the parent
        # (a gunicorn --preload master that evaluated at import) would be reported again
        # by every worker, multiplying them in the backend's sum.
        reset_in_child(self, _forget_counts)
        meter.create_observable_counter(
            "flagport.evaluations",
            callbacks=[self._observe_evaluations],
            unit="{evaluation}",
            description="Feature flag evaluations, by flag, variant, reason and provider.",
        )
        meter.create_observable_counter(
            "flagport.evaluation.errors",
            callbacks=[self._observe_errors],
            unit="{error}",
            description="Evaluations that served a default because of an error, by error.type.",
        )
        for name in PIPELINE_COUNTERS:
            meter.create_observable_counter(
                f"flagport.events.{name}",
                callbacks=[self._pipeline(name)],
                unit="{event}",
                description=f"Events {name} by the event pipeline, by sink.",
            )
        meter.create_observable_gauge(
            "flagport.events.queued",
            callbacks=[self._pipeline("queued")],
            unit="{event}",
            description="Events waiting in the pipeline's queue, by sink.",
        )

    def count(self, series: Series) -> None:
        """Count one evaluation of ``series``."""
        with self._lock:
            counts = self._counts
            if series in counts:
                counts[series] += 1
            elif len(counts) < MAX_SERIES:
                counts[series] = 1
            else:
                counts[_OVERFLOW] = counts.get(_OVERFLOW, 0) + 1

    def _snapshot(self) -> list[tuple[Series, int]]:
        if not self.active:
            return []
        with self._lock:
            return list(self._counts.items())

    def _observe_evaluations(self, options: CallbackOptions) -> Iterable[Observation]:
        return [Observation(n, _labels(series)) for series, n in self._snapshot()]

    def _observe_errors(self, options: CallbackOptions) -> Iterable[Observation]:
        errors: dict[tuple[str, str, str | None], int] = {}
        for (key, _, _, provider, error), n in self._snapshot():
            if error is not None:
                errors[key, error, provider] = errors.get((key, error, provider), 0) + n
        observations = []
        for (key, error, provider), n in errors.items():
            labels = {ERROR_TYPE: error, KEY: key}
            if provider is not None:
                labels[PROVIDER_NAME] = provider
            observations.append(Observation(n, labels))
        return observations

    def _pipeline(self, counter: str) -> Any:
        def observe(options: CallbackOptions) -> Iterable[Observation]:
            if not self.active:
                return []
            return [
                Observation(counters.get(counter, 0), {SINK: sink})
                for sink, counters in pipeline_totals().items()
            ]

        return observe

    def close(self) -> None:
        """Stop reporting: the SDK keeps observable instruments for the meter's life."""
        self.active = False


def _forget_counts(instruments: Instruments) -> None:
    instruments._counts = {}
