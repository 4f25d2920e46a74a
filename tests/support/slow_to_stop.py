"""A provider whose shutdown lasts until the test releases it, for tests of what waits
for a client to stop (``flagport.setup()`` replacing one, on and off an event loop)."""

from __future__ import annotations

import threading

from flagport import Provider, User
from flagport.provider import ProviderOptions
from flagport.results import ConfigResult, ExperimentResult, GateResult

WAIT = 10.0  # seconds: a bound on waiting for the release, never an expectation


class SlowToStop(Provider):
    """Every gate is on; ``shutdown()`` waits for ``release`` (then raises if ``fail``)."""

    name = "slow_to_stop"

    def __init__(self, release: threading.Event, fail: bool = False) -> None:
        super().__init__(ProviderOptions())
        self.release = release
        self.fail = fail

    def shutdown(self, timeout: float = 5.0) -> None:
        self.release.wait(WAIT)
        if self.fail:
            raise RuntimeError("the vendor refused to stop")
        super().shutdown(timeout)

    def evaluate_gate(self, user: User, name: str, *, expose: bool = True) -> GateResult:
        return GateResult(name=name, value=True, provider=self.name)

    def evaluate_experiment(
        self, user: User, name: str, *, expose: bool = True
    ) -> ExperimentResult:
        return ExperimentResult(name=name, provider=self.name)

    def evaluate_config(self, user: User, name: str, *, expose: bool = True) -> ConfigResult:
        return ConfigResult(name=name, provider=self.name)
