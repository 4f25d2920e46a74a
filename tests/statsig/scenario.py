"""The common product scenario in Statsig's own format, for the cross-provider tests."""

from __future__ import annotations

from typing import Any

from flagport_statsig.testing import scenario_specs

__all__ = ["bootstrap"]


def bootstrap() -> dict[str, Any]:
    """Statsig config specs for the scenario: gate ``new_checkout``, experiment
    ``button_color``, config ``pricing`` (see :func:`flagport_statsig.testing.scenario_specs`).

    Use as ``Flagport(provider="statsig", offline=True, bootstrap=bootstrap())``.
    """
    return scenario_specs()
