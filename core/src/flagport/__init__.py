"""flagport: one API for feature gates, experiments, dynamic configs and events.

Answers come from a built-in local rule evaluator, Statsig, GrowthBook, FeatBit or a
pass-all-gates test provider, chosen by configuration.
"""

from __future__ import annotations

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
from flagport.events.model import Event, EventKind, FlagKind
from flagport.hookspecs import hookimpl
from flagport.provider import FlagNames, Provider, ProviderOptions, ProviderStatus
from flagport.reasons import ErrorCode, Reason
from flagport.results import ConfigResult, Evaluations, ExperimentResult, GateResult
from flagport.scope import current_user, scope
from flagport.user import User

__all__ = [
    "ConfigResult",
    "ConfigurationError",
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
    "scope",
    "set_client",
    "setup",
    "shutdown",
    "start",
    "stats",
    "wait_ready",
]
