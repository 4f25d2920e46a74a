"""The ``flagport`` entry point: the ``[opentelemetry]`` section and turning it on.

Importing this module imports no OpenTelemetry code: that happens only when the
settings (or :func:`enable`) turn telemetry on, so an installed but unused plugin costs
an application nothing.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from flagport.hookspecs import hookimpl
from flagport.plugins import register_plugin, unregister_plugin
from flagport.settings import Settings, validate_options

if TYPE_CHECKING:
    from flagport_opentelemetry.observer import Telemetry
    from flagport_opentelemetry.options import OpenTelemetrySettings

__all__ = ["PLUGIN_NAME", "SECTION", "current", "disable", "enable"]

#: The settings section: ``[opentelemetry]``, ``FLAGPORT_OPENTELEMETRY``.
SECTION = "opentelemetry"
#: The name the active observer is registered under.
PLUGIN_NAME = "flagport_opentelemetry.observer"

_lock = threading.Lock()
_current: Telemetry | None = None
_from_code = False


@hookimpl
def flagport_register_settings(register: Callable[..., None]) -> None:
    # By reference: the model is built only when a source sets an option of the section.
    register(SECTION, "flagport_opentelemetry.options:OpenTelemetrySettings", switch="record")


@hookimpl
def flagport_configure(settings: Settings) -> None:
    if not settings.sections.given(SECTION):
        return  # settings that say nothing never turn off what is on
    from flagport_opentelemetry.options import OpenTelemetrySettings

    section = settings.sections.get(SECTION)
    if not isinstance(section, OpenTelemetrySettings) or not section.enabled:
        return
    with _lock:
        if _from_code or (_current is not None and _current.settings == section):
            return  # what the application set up in code wins over settings
        _install(section, {})


def enable(
    record: str | float = "all",
    *,
    meter_provider: Any = None,
    logger_provider: Any = None,
    **options: Any,
) -> Telemetry | None:
    """Turn OpenTelemetry on for every client in the process, from code.

    Clients built afterwards (and those not started yet) use it; what the settings say
    no longer changes it until :func:`disable`.

    :param record: ``"all"``, ``"exposures"``, a sample rate such as ``0.01``, or
        ``"off"``.
    :param meter_provider: where metrics go (the global meter provider by default).
    :param logger_provider: where log-based events go (the global one by default).
    :param options: the other options of :class:`OpenTelemetrySettings`
        (``include_value=True``…).
    :returns: the registered observer, or None when ``record`` is off.
    :raises flagport.ConfigurationError: an option is unknown (with the closest name) or of
        the wrong type.
    """
    global _from_code
    from flagport_opentelemetry.options import OpenTelemetrySettings

    given = {"record": record, **options}
    sources = dict.fromkeys(given, "flagport_opentelemetry.enable()")
    settings = validate_options(OpenTelemetrySettings, given, sources, "OpenTelemetry")
    with _lock:
        if not settings.enabled:
            _uninstall()
            _from_code = True
            return None
        _from_code = True
        providers = {"meter_provider": meter_provider, "logger_provider": logger_provider}
        return _install(settings, providers)


def disable() -> None:
    """Turn OpenTelemetry off; settings may turn it on again for clients built later."""
    global _from_code
    with _lock:
        _uninstall()
        _from_code = False


def current() -> Telemetry | None:
    """The active observer, if telemetry is on."""
    return _current


def _install(settings: OpenTelemetrySettings, providers: dict[str, Any]) -> Telemetry:
    global _current
    from flagport_opentelemetry.observer import EvaluationTelemetry, ExposureTelemetry

    cls = ExposureTelemetry if settings.record == "exposures" else EvaluationTelemetry
    telemetry = cls(settings, **providers)
    _uninstall()
    register_plugin(telemetry, name=PLUGIN_NAME)
    _current = telemetry
    return telemetry


def _uninstall() -> None:
    global _current
    if _current is not None:
        unregister_plugin(_current)
        _current.close()
        _current = None
