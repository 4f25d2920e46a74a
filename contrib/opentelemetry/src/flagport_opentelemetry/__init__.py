"""OpenTelemetry for flagport: ``feature_flag.evaluation`` events, span events, metrics.

Off by default. Turn it on with ``FLAGPORT_OPENTELEMETRY=all`` (or ``exposures``, or a
sample rate such as ``0.01``), ``[opentelemetry] record = "all"`` in ``flagport.toml``,
or :func:`enable` in code.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from flagport._exports import lazy_export
from flagport_opentelemetry.plugin import current, disable, enable

if TYPE_CHECKING:
    from flagport_opentelemetry.options import OpenTelemetrySettings

__all__ = ["OpenTelemetrySettings", "current", "disable", "enable"]

# Imported on first use: the settings model is built only when telemetry is configured.
_LAZY = {"OpenTelemetrySettings": "flagport_opentelemetry.options"}


def __getattr__(name: str) -> Any:
    return lazy_export(__name__, name, _LAZY)
