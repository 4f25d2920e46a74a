"""The built-in structured-logging observer.

Off by default (an observer nobody registers costs nothing). Turn it on with
``FLAGPORT_LOG_EVALUATIONS=1`` (or ``=DEBUG``/``=INFO``…) in the environment, or in code
with :func:`flagport.plugins.enable_logging`. Each record carries the details in
``record.flagport`` (a dict), ready for a JSON log formatter.

Turning it on is asking to see the records, so it makes sure they can be seen without
configuring the root logger (a library never does): ``flagport.observe`` gets the level
asked for unless the application set one, and a handler printing to stderr that stays
silent whenever another handler (the application's, pytest's) receives the record, as
``logging.lastResort`` does for warnings. See :func:`show_on_stderr`.

This module is a built-in plugin, registered like any other: its
:func:`flagport_register_observers` registers the observer when the environment asks
for it. It knows the hooks, not the plugin manager, so the two never import each other.
"""

from __future__ import annotations

import logging
import os
import sys
from collections.abc import Callable
from typing import Any

from flagport._exports import lazy_export
from flagport.hookspecs import hookimpl
from flagport.results import Result
from flagport.user import User

__all__ = [
    "LoggingObserver",
    "StderrFallback",
    "flagport_register_observers",
    "level_from_env",
    "show_on_stderr",
]

#: The plugin name the logging observer is registered under.
PLUGIN_NAME = "flagport.observers.logging"


class LoggingObserver:
    """Logs evaluations, events and provider errors to the ``flagport.observe`` logger.

    :param level: level of evaluation and event records; provider errors are WARNING.
    """

    def __init__(self, level: int = logging.DEBUG, logger: str = "flagport.observe") -> None:
        self.level = level
        self.logger = logging.getLogger(logger)

    @hookimpl
    def flagport_after_evaluation(self, user: User, result: Result, kind: str) -> None:
        if not self.logger.isEnabledFor(self.level):
            return
        data: dict[str, Any] = {
            "kind": kind,
            "flag": result.name,
            "user_id": getattr(user, "user_id", None),
            "value": getattr(result, "group", None) if kind == "experiment" else result.value,
            "reason": result.reason.value,
            "rule_id": result.rule_id,
            "provider": result.provider,
            "error_code": result.error_code.value if result.error_code else None,
        }
        self.logger.log(
            self.level,
            "%s %s = %r (%s)",
            kind,
            result.name,
            data["value"],
            data["reason"],
            extra={"flagport": data},
        )

    @hookimpl
    def flagport_on_event(self, event: Any) -> None:
        if self.logger.isEnabledFor(self.level):
            data = event.model_dump(mode="json")
            self.logger.log(
                self.level, "event %s %s", data["kind"], data["name"], extra={"flagport": data}
            )

    @hookimpl
    def flagport_on_provider_error(
        self, provider: str, flag: str | None, error: BaseException
    ) -> None:
        data = {"provider": provider, "flag": flag, "error": f"{type(error).__name__}: {error}"}
        self.logger.warning(
            "provider %s failed on %s: %s", provider, flag, data["error"], extra={"flagport": data}
        )


class StderrFallback(logging.StreamHandler):  # type: ignore[type-arg]
    """Prints a record to stderr only when no other handler will receive it."""

    def __init__(self) -> None:
        super().__init__()  # sys.stderr as it is when the record is printed
        self.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))

    def emit(self, record: logging.LogRecord) -> None:
        if not self._handled_elsewhere(logging.getLogger(record.name)):
            super().emit(record)

    def _handled_elsewhere(self, logger: logging.Logger | None) -> bool:
        while logger is not None:
            if any(handler is not self for handler in logger.handlers):
                return True
            if not logger.propagate:
                return False
            logger = logger.parent
        return False

    @property
    def stream(self) -> Any:
        return sys.stderr

    @stream.setter
    def stream(self, value: Any) -> None:
        pass  # always the current sys.stderr (pytest and applications replace it)


def show_on_stderr(logger: logging.Logger, level: int) -> None:
    """Make ``logger``'s records at ``level`` visible when the application configured no
    logging: its level (unless the application set one) and a :class:`StderrFallback`
    (once)."""
    fallback = any(isinstance(h, StderrFallback) for h in logger.handlers)
    if logger.level == logging.NOTSET or fallback:  # never overrides the application's
        logger.setLevel(level)
    if not fallback:
        logger.addHandler(StderrFallback())


def level_from_env(value: str) -> int | None:
    """The logging level ``FLAGPORT_LOG_EVALUATIONS`` asks for, or None when it is off."""
    text = value.strip().upper()
    if text in {"", "0", "FALSE", "NO", "OFF"}:
        return None
    if text in {"1", "TRUE", "YES", "ON"}:
        return logging.DEBUG
    level = logging.getLevelName(text)
    return level if isinstance(level, int) else logging.DEBUG


@hookimpl
def flagport_register_observers(register: Callable[..., None]) -> None:
    """Register a :class:`LoggingObserver` when ``FLAGPORT_LOG_EVALUATIONS`` asks for one."""
    level = level_from_env(os.environ.get("FLAGPORT_LOG_EVALUATIONS", ""))
    if level is not None:
        observer = LoggingObserver(level)
        show_on_stderr(observer.logger, level)
        register(observer, name=PLUGIN_NAME)


# ``enable_logging`` registers a plugin, so it lives with the plugin manager now.
_RENAMED = {"enable_logging": "flagport.plugins:enable_logging"}


def __getattr__(name: str) -> Any:
    return lazy_export(__name__, name, {}, _RENAMED)
