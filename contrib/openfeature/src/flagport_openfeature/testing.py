"""OpenFeature's in-memory provider holding flagport's common product scenario.

For tests and examples: ``Flagport(provider="openfeature",
of_provider="flagport_openfeature.testing:scenario_provider")`` serves the gate
``new_checkout`` (on for US users), the experiment ``button_color`` (three groups,
split by a stable hash of the targeting key) and the config ``pricing`` (10 % off for
the ``pro`` plan) from the real ``InMemoryProvider`` shipped in the OpenFeature SDK.
"""

from __future__ import annotations

import hashlib
import os
from typing import Any

from openfeature.evaluation_context import EvaluationContext
from openfeature.flag_evaluation import FlagResolutionDetails, Reason
from openfeature.provider.in_memory_provider import InMemoryFlag, InMemoryProvider

__all__ = ["SCENARIO_KINDS", "ScenarioProvider", "scenario_flags", "scenario_provider"]

#: The scenario's flag names by kind, as the ``openfeature`` provider's options take them.
SCENARIO_KINDS: dict[str, list[str]] = {
    "gates": ["new_checkout"],
    "experiments": ["button_color"],
    "configs": ["pricing"],
}


def _bucket(salt: str, key: str, buckets: int) -> int:
    digest = hashlib.sha256(f"{salt}.{key}".encode()).digest()
    return int.from_bytes(digest[:8], "big") % buckets


def _new_checkout(flag: InMemoryFlag[Any], ctx: EvaluationContext) -> FlagResolutionDetails[Any]:
    if ctx.attributes.get("country") == "US":
        return FlagResolutionDetails(True, reason=Reason.TARGETING_MATCH, variant="on")
    if ctx.targeting_key and _bucket("new_checkout", ctx.targeting_key, 100) < 50:
        return FlagResolutionDetails(True, reason=Reason.SPLIT, variant="on")
    return FlagResolutionDetails(False, reason=Reason.DEFAULT, variant="off")


def _split(flag: InMemoryFlag[Any], ctx: EvaluationContext) -> FlagResolutionDetails[Any]:
    if not ctx.targeting_key:
        variant = flag.default_variant
        return FlagResolutionDetails(flag.variants[variant], reason=Reason.DEFAULT, variant=variant)
    names = sorted(flag.variants)
    variant = names[_bucket("button_color", ctx.targeting_key, len(names))]
    return FlagResolutionDetails(flag.variants[variant], reason=Reason.SPLIT, variant=variant)


def _by_plan(flag: InMemoryFlag[Any], ctx: EvaluationContext) -> FlagResolutionDetails[Any]:
    if ctx.attributes.get("plan") == "pro":
        return FlagResolutionDetails(
            flag.variants["pro"], reason=Reason.TARGETING_MATCH, variant="pro"
        )
    return FlagResolutionDetails(flag.variants["base"], reason=Reason.DEFAULT, variant="base")


def scenario_flags() -> dict[str, InMemoryFlag[Any]]:
    """The scenario as ``InMemoryProvider`` flags (a fresh copy)."""
    return {
        "new_checkout": InMemoryFlag(
            "off", {"on": True, "off": False}, context_evaluator=_new_checkout
        ),
        "button_color": InMemoryFlag(
            "control",
            {"control": {"color": "gray"}, "blue": {"color": "blue"}, "green": {"color": "green"}},
            context_evaluator=_split,
        ),
        "pricing": InMemoryFlag(
            "base",
            {"base": {"discount": 0}, "pro": {"discount": 0.1}},
            context_evaluator=_by_plan,
        ),
    }


class ScenarioProvider(InMemoryProvider):
    """``InMemoryProvider`` with the scenario's flags; remembers the process that built it.

    :ivar pid: the process id at construction (fork tests check that each process
        builds its own provider).
    """

    def __init__(self, extra: dict[str, InMemoryFlag[Any]] | None = None) -> None:
        super().__init__({**scenario_flags(), **(extra or {})})
        self.pid = os.getpid()


def scenario_provider(**options: Any) -> ScenarioProvider:
    """Factory for ``of_provider``: a :class:`ScenarioProvider` (``extra`` adds flags)."""
    return ScenarioProvider(**options)
