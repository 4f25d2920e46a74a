"""flagport: one API for feature gates, experiments, dynamic configs and events.

Answers come from a built-in local rule evaluator, Statsig, GrowthBook, FeatBit or a
pass-all-gates test provider, chosen by configuration.
"""

from __future__ import annotations

import importlib
import importlib.util
from typing import TYPE_CHECKING, Any

from flagport._exports import lazy_export

# ``scope`` is bound at once: it is also a submodule's name, and importing that
# submodule later would otherwise rebind ``flagport.scope`` to the module.
from flagport.scope import current_user, scope

if TYPE_CHECKING:
    from flagport._changes import ChangeSubscription
    from flagport._global import (
        aclose,
        aflush,
        bind_client,
        check_gate,
        current_client,
        evaluate_all,
        flush,
        get_client,
        get_config,
        get_experiment,
        get_gate,
        install_signal_handlers,
        log_event,
        on_change,
        set_client,
        setup,
        shutdown,
        start,
        stats,
        wait_ready,
    )
    from flagport.client import Flagport
    from flagport.errors import (
        ConfigurationError,
        FlagNotFoundError,
        FlagportError,
        GeneralError,
        InvalidContextError,
        MissingUserError,
        ParseError,
        PluginError,
        ProviderNotReadyError,
        TypeMismatchError,
    )
    from flagport.events.kinds import EventKind, FlagKind
    from flagport.events.model import Event
    from flagport.hookspecs import hookimpl
    from flagport.provider import (
        DefinitionsChanged,
        FlagNames,
        Provider,
        ProviderOptions,
        ProviderStatus,
    )
    from flagport.reasons import ErrorCode, Reason
    from flagport.results import ConfigResult, Evaluations, ExperimentResult, GateResult
    from flagport.user import User

# Everything else is imported on first use: ``import flagport`` (and so ``flagport
# --help``, whose package this is) loads no pydantic model, no plugin manager and no
# event machinery until a name is asked for.
_MODULES = {
    "flagport._global": "aclose aflush bind_client check_gate current_client evaluate_all flush "
    "get_client get_config get_experiment get_gate install_signal_handlers log_event on_change "
    "set_client setup shutdown start stats wait_ready",
    "flagport._changes": "ChangeSubscription",
    "flagport.client": "Flagport",
    "flagport.errors": "ConfigurationError FlagNotFoundError FlagportError GeneralError "
    "InvalidContextError MissingUserError ParseError PluginError ProviderNotReadyError "
    "TypeMismatchError",
    "flagport.events.kinds": "EventKind FlagKind",
    "flagport.events.model": "Event",
    "flagport.hookspecs": "hookimpl",
    "flagport.provider": "DefinitionsChanged FlagNames Provider ProviderOptions ProviderStatus",
    "flagport.reasons": "ErrorCode Reason",
    "flagport.results": "ConfigResult Evaluations ExperimentResult GateResult",
    "flagport.user": "User",
}
_LAZY = {name: module for module, names in _MODULES.items() for name in names.split()}


def __getattr__(name: str) -> Any:
    if name not in _LAZY and importlib.util.find_spec(f"{__name__}.{name}") is not None:
        # ``flagport.settings`` and other submodules, which used to be imported with the
        # package, still resolve as attributes.
        return importlib.import_module(f"{__name__}.{name}")
    value = lazy_export(__name__, name, _LAZY)
    globals()[name] = value  # found directly from now on, without this function
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})


__all__ = [
    "ChangeSubscription",
    "ConfigResult",
    "ConfigurationError",
    "DefinitionsChanged",
    "ErrorCode",
    "Evaluations",
    "Event",
    "EventKind",
    "ExperimentResult",
    "FlagKind",
    "FlagNames",
    "FlagNotFoundError",
    "Flagport",
    "FlagportError",
    "GateResult",
    "GeneralError",
    "InvalidContextError",
    "MissingUserError",
    "ParseError",
    "PluginError",
    "Provider",
    "ProviderNotReadyError",
    "ProviderOptions",
    "ProviderStatus",
    "Reason",
    "TypeMismatchError",
    "User",
    "aclose",
    "aflush",
    "bind_client",
    "check_gate",
    "current_client",
    "current_user",
    "evaluate_all",
    "flush",
    "get_client",
    "get_config",
    "get_experiment",
    "get_gate",
    "hookimpl",
    "install_signal_handlers",
    "log_event",
    "on_change",
    "scope",
    "set_client",
    "setup",
    "shutdown",
    "start",
    "stats",
    "wait_ready",
]
