"""OpenTelemetry for flagport: ``feature_flag.evaluation`` events, span events, metrics.

Off by default. Turn it on with ``FLAGPORT_OPENTELEMETRY=all`` (or ``exposures``, or a
sample rate such as ``0.01``), ``[opentelemetry] record = "all"`` in ``flagport.toml``,
or :func:`enable` in code.
"""

from __future__ import annotations

from flagport_opentelemetry.options import OpenTelemetrySettings
from flagport_opentelemetry.plugin import current, disable, enable

__all__ = ["OpenTelemetrySettings", "current", "disable", "enable"]
