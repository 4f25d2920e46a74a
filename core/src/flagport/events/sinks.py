"""Event sinks: where the pipeline delivers events.

The built-in sinks (``provider``, ``jsonl``, ``logging``) are registered by this
module's :func:`flagport_register_sinks`, the hook plugins contribute theirs through:
the plugin manager registers the module like any built-in plugin.

A sink receives batches on its own worker thread. ``wants_models`` sinks get
:class:`~flagport.Event` objects; the others get the same data as plain dicts,
which is much cheaper to produce and is exactly ``Event.model_dump(mode="json")``.
Every built-in sink takes each event on its own: one that cannot be serialised or
delivered is reported back and counted alone, the rest of its batch goes through.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from pydantic_core import to_json

from flagport._fork import reset_in_child
from flagport.errors import ConfigurationError
from flagport.events.kinds import EventKind
from flagport.events.settings import EventSettings
from flagport.hookspecs import hookimpl
from flagport.imports import import_object
from flagport.suggest import did_you_mean

if TYPE_CHECKING:
    from flagport.events.model import Event
    from flagport.provider import Provider

__all__ = [
    "CallableSink",
    "JsonlSink",
    "LoggingSink",
    "ProviderSink",
    "Rejected",
    "Sink",
    "build_sink",
    "deliver_each",
    "encode",
    "flagport_register_sinks",
]

Rejected = Sequence[tuple[int, Exception]]
"""The events of a batch a sink could not take: their index in the batch, and why."""


class Sink(Protocol):
    """Something that takes batches of events.

    :cvar name: how the sink appears in ``stats()``.
    :cvar wants_models: True to receive :class:`Event` objects, False for dicts.
    """

    name: str
    wants_models: bool

    def deliver(self, batch: Sequence[Any]) -> Rejected | None:
        """Deliver a batch.

        :returns: the events that could not be delivered (counted as failed one by
            one), or None when all were. Raising counts the whole batch as failed.
        """

    def close(self) -> None:
        """Release resources (called once, at shutdown, on the worker's thread)."""


class ProviderSink:
    """The active provider's vendor event API."""

    name = "provider"
    wants_models = True

    def __init__(self, provider: Callable[[], Provider]) -> None:
        self._provider = provider

    def deliver(self, batch: Sequence[Event]) -> Rejected:
        provider = self._provider()
        own_exposures = provider.logs_own_exposures

        def send(event: Event) -> None:
            if event.kind is EventKind.EXPOSURE:
                # Forced values stay out of the vendor's analysis; automatic exposures
                # are the SDK's own job when it logs them, manual ones are not.
                if event.metadata.get("reason") == "OVERRIDE":
                    return
                if own_exposures and not event.metadata.get("manual"):
                    return
            provider.log_event(event)

        return deliver_each(batch, send)

    def close(self) -> None:
        return None


class JsonlSink:
    """One JSON object per line, appended to a file (opened per process, followed to a
    new file when rotated, never waiting for a named pipe's reader: see
    :mod:`flagport.events.jsonl_file`)."""

    name = "jsonl"
    wants_models = False

    def __init__(self, path: Path, where: str = "[events] jsonl_path") -> None:
        """:param where: where the path was set, for the error.
        :raises ConfigurationError: ``path`` is a folder, a disk or a socket, or cannot
            be written."""
        # With this sink only: not a cold start's.
        from flagport._files import why_unwritable
        from flagport.events.jsonl_file import WatchedFile, shown_path, why_not_appendable

        self.path = Path(path)
        problem = why_unwritable(self.path) or why_not_appendable(self.path)
        if problem is not None:
            raise ConfigurationError(f"{where} {shown_path(self.path)}: {problem}")
        self._file = WatchedFile(self.path)
        # A forked child opens its own file rather than writing through the parent's.
        reset_in_child(self, _forget_file)

    def deliver(self, batch: Sequence[dict[str, Any]]) -> Rejected:
        # An event that does not serialise is rejected alone; the others are written.
        lines: list[bytes] = []
        rejected = deliver_each(batch, lambda item: lines.append(encode(item)))
        if lines:
            self._file.append(lines)
        return rejected

    def close(self) -> None:
        self._file.close()


def _forget_file(sink: JsonlSink) -> None:
    sink._file.forget()


class LoggingSink:
    """Each event as a JSON log record (structured logging pipelines pick it up)."""

    name = "logging"
    wants_models = False

    def __init__(self, logger: str, level: str) -> None:
        self._logger = logging.getLogger(logger)
        self._level = logging.getLevelName(level.upper())
        if not isinstance(self._level, int):
            raise ConfigurationError(
                f"[events] logging_level {level!r} is not a logging level; use INFO, DEBUG…"
            )

    def deliver(self, batch: Sequence[dict[str, Any]]) -> Rejected:
        if not self._logger.isEnabledFor(self._level):
            return ()
        return deliver_each(batch, self._log)

    def _log(self, item: dict[str, Any]) -> None:
        self._logger.log(self._level, "%s", encode(item).decode(), extra={"event": item})

    def close(self) -> None:
        return None


class CallableSink:
    """Calls a function with each :class:`Event`."""

    wants_models = True

    def __init__(self, fn: Callable[[Event], Any], name: str | None = None) -> None:
        self._fn = fn
        self.name = name or getattr(fn, "__qualname__", repr(fn)).rpartition("<locals>.")[2]

    def deliver(self, batch: Sequence[Event]) -> Rejected:
        return deliver_each(batch, self._fn)

    def close(self) -> None:
        return None


def encode(item: dict[str, Any]) -> bytes:
    """One event as JSON; a non-finite number is written as a string (``"NaN"``), as
    :mod:`flagport.finite_json` spells them, in the same single pass."""
    return to_json(item, inf_nan_mode="strings")


def deliver_each(batch: Sequence[Any], deliver: Callable[[Any], object]) -> Rejected:
    """Call ``deliver`` with each item of ``batch``; the items that raised, with why."""
    rejected = []
    for index, item in enumerate(batch):
        try:
            deliver(item)
        except Exception as exc:
            rejected.append((index, exc))
    return rejected


def _import_callable(spec: str, where: str) -> Callable[[Event], Any]:
    try:
        fn = import_object(spec)
    except (ImportError, AttributeError) as exc:
        raise ConfigurationError(
            f"{where}: cannot import {spec!r} ({exc}); give 'package.module:function'"
        ) from None
    if not callable(fn):
        raise ConfigurationError(f"{where}: {spec!r} is not callable")
    return fn  # type: ignore[no-any-return]


def build_sink(
    spec: str | Callable[..., Any],
    settings: EventSettings,
    registered: Mapping[str, Callable[[EventSettings], Sink]],
) -> Sink:
    """Build the sink a ``sinks`` entry names: a callable, a registered name (the
    built-ins are registered too, see :func:`flagport_register_sinks`) or
    ``"module:function"``.

    :param registered: sink factories contributed through ``flagport_register_sinks``.
    :raises ConfigurationError: the name is unknown or the callable cannot be imported.
    """
    if callable(spec):
        return CallableSink(spec)
    factory = registered.get(spec)
    if factory is not None:
        return factory(settings)
    if ":" in spec:
        return CallableSink(_import_callable(spec, settings.where("sinks")), name=spec)
    hint = did_you_mean(spec, registered)
    raise ConfigurationError(
        f"{settings.where('sinks')}: unknown sink {spec!r}; "
        + (f"{hint} " if hint else "")
        + f"use one of {sorted(registered)} or 'module:function'"
    )


@hookimpl
def flagport_register_sinks(
    register: Callable[[str, Callable[[EventSettings], Sink]], None],
    provider: Callable[[], Provider],
) -> None:
    """Register the built-in sinks, through the hook plugins use for theirs."""
    register("provider", lambda settings: ProviderSink(provider))
    register("jsonl", lambda settings: JsonlSink(settings.jsonl_path, settings.where("jsonl_path")))
    register(
        "logging", lambda settings: LoggingSink(settings.logging_logger, settings.logging_level)
    )
