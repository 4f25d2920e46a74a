"""The ``passall`` provider and its options (registered by :mod:`flagport.providers.passall`)."""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING

from pydantic import Field

from flagport.provider import FlagNames, Provider, ProviderOptions
from flagport.reasons import Reason
from flagport.results import ConfigResult, ExperimentResult, GateResult

if TYPE_CHECKING:
    from flagport.events.model import Event
    from flagport.user import User

__all__ = ["PassAllOptions", "PassAllProvider"]


class PassAllOptions(ProviderOptions):
    """Options of the ``passall`` provider."""

    gate_value: bool = Field(default=True, description="The value every gate returns.")
    max_events: int = Field(
        default=100_000,
        ge=0,
        description="Events kept in memory; the oldest are dropped beyond it.",
    )


class PassAllProvider(Provider):
    """Every gate ``gate_value`` (``True``), experiments and configs their defaults."""

    name = "passall"
    Options = PassAllOptions
    options: PassAllOptions

    def __init__(self, options: PassAllOptions) -> None:
        super().__init__(options)
        self._gate = bool(options.gate_value)
        self._results: dict[str, GateResult] = {}
        self.events: list[Event] = []
        self.dropped_events = 0
        self._lock = threading.Lock()

    def check_gate(self, user: User, name: str, *, expose: bool = True) -> bool:
        return self._gate

    def evaluate_gate(self, user: User, name: str, *, expose: bool = True) -> GateResult:
        result = self._results.get(name)
        if result is None:
            result = GateResult(
                name=name, value=self._gate, reason=Reason.STATIC, provider=self.name
            )
            if len(self._results) < 10_000:  # every name passes: keep memory bounded
                self._results[name] = result
        return result

    def evaluate_experiment(
        self, user: User, name: str, *, expose: bool = True
    ) -> ExperimentResult:
        # value=None: the client fills in the caller's default.
        return ExperimentResult(name=name, value=None, reason=Reason.STATIC, provider=self.name)

    def evaluate_config(self, user: User, name: str, *, expose: bool = True) -> ConfigResult:
        return ConfigResult(name=name, value=None, reason=Reason.STATIC, provider=self.name)

    def names(self) -> FlagNames:
        return FlagNames()

    def log_event(self, event: Event) -> None:
        with self._lock:
            self.events.append(event)
            if len(self.events) > self.options.max_events:
                del self.events[0]
                self.dropped_events += 1

    def clear_events(self) -> None:
        """Forget the events kept so far."""
        with self._lock:
            self.events.clear()
