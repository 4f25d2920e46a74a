"""A provider that knows no flag, for tests that need a provider and write only the part
they are about (announcing changes, publishing definitions)."""

from __future__ import annotations

from flagport import FlagNotFoundError, Provider, User
from flagport.results import ConfigResult, ExperimentResult, GateResult


class FlaglessProvider(Provider):
    """Every evaluation raises :class:`~flagport.FlagNotFoundError`; subclasses override
    what they serve."""

    name = "flagless"

    def evaluate_gate(self, user: User, name: str, *, expose: bool = True) -> GateResult:
        raise FlagNotFoundError(name)

    def evaluate_experiment(
        self, user: User, name: str, *, expose: bool = True
    ) -> ExperimentResult:
        raise FlagNotFoundError(name)

    def evaluate_config(self, user: User, name: str, *, expose: bool = True) -> ConfigResult:
        raise FlagNotFoundError(name)
