"""Metrics: evaluations and errors as counters, the event pipeline's counters observed.

Instrument names are flagport's own (the semantic conventions define no feature-flag
metrics); their attributes use the conventions' names. The pipeline's counters are read
from every live client when the metric reader collects, so delivery pays nothing.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from opentelemetry.metrics import CallbackOptions, Meter, Observation

from flagport._lifecycle import live_clients
from flagport_opentelemetry.attributes import ERROR_TYPE, KEY, PROVIDER_NAME, REASON, VARIANT

__all__ = ["PIPELINE_COUNTERS", "SINK", "Instruments", "pipeline_totals"]

#: The attribute naming an event sink (``provider``, ``jsonl``…).
SINK = "flagport.events.sink"
#: The pipeline counters reported, each as ``flagport.events.<name>``.
PIPELINE_COUNTERS = ("accepted", "delivered", "failed", "dropped")
_COUNTED = (KEY, VARIANT, REASON, PROVIDER_NAME)


def pipeline_totals() -> dict[str, dict[str, int]]:
    """The event pipeline's counters summed over every live client, by sink name."""
    totals: dict[str, dict[str, int]] = {}
    for client in live_clients():
        for sink, counters in client.events.stats().items():
            into = totals.setdefault(sink, {})
            for name, value in counters.items():
                into[name] = into.get(name, 0) + value
    return totals


class Instruments:
    """The instruments of one installation; :meth:`close` silences its observers.

    :param meter: where the instruments are created.
    """

    def __init__(self, meter: Meter) -> None:
        self.active = True
        self.evaluations = meter.create_counter(
            "flagport.evaluations",
            unit="{evaluation}",
            description="Feature flag evaluations, by flag, variant, reason and provider.",
        )
        self.errors = meter.create_counter(
            "flagport.evaluation.errors",
            unit="{error}",
            description="Evaluations that served a default because of an error, by error.type.",
        )
        for name in PIPELINE_COUNTERS:
            meter.create_observable_counter(
                f"flagport.events.{name}",
                callbacks=[self._observer(name)],
                unit="{event}",
                description=f"Events {name} by the event pipeline, by sink.",
            )
        meter.create_observable_gauge(
            "flagport.events.queued",
            callbacks=[self._observer("queued")],
            unit="{event}",
            description="Events waiting in the pipeline's queue, by sink.",
        )

    def _observer(self, counter: str) -> Any:
        def observe(options: CallbackOptions) -> Iterable[Observation]:
            if not self.active:
                return []
            return [
                Observation(counters.get(counter, 0), {SINK: sink})
                for sink, counters in pipeline_totals().items()
            ]

        return observe

    def count(self, attributes: dict[str, Any]) -> None:
        """Count one evaluation (and its error), described by the event's attributes."""
        self.evaluations.add(1, {k: attributes[k] for k in _COUNTED if k in attributes})
        error = attributes.get(ERROR_TYPE)
        if error is not None:
            labels = {ERROR_TYPE: error, KEY: attributes[KEY]}
            if PROVIDER_NAME in attributes:
                labels[PROVIDER_NAME] = attributes[PROVIDER_NAME]
            self.errors.add(1, labels)

    def close(self) -> None:
        """Stop reporting: the SDK keeps observable instruments for the meter's life."""
        self.active = False
