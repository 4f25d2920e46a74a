"""The control file: stages, ramps and the sample rate, changed while running."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from flagport._documents import FORMATS, Document, locate, read_document
from flagport.errors import ConfigurationError
from flagport.providers.migration.options import ControlFile, MigrationOptions

__all__ = ["ControlFileReader", "Housekeeping", "read_structured"]

logger = logging.getLogger("flagport.providers.migration")


def read_structured(path: Path, what: str = "file") -> Any:
    """Parse a TOML, JSON or YAML file, chosen by its suffix (anything else: YAML).

    :param what: what the file is, for messages.
    :raises ConfigurationError: the file cannot be read or is not valid in its format,
        naming the file and the line.
    """
    return _read(path, what).data


def _read(path: Path, what: str) -> Document:
    fmt = FORMATS.get(path.suffix.lower(), "yaml")
    return read_document(path, what=what, fmt=fmt)


class ControlFileReader:
    """Reads a control file (TOML, JSON or YAML by its suffix) when it has changed.

    :param path: the file; it may not exist yet.
    """

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        #: why the file last read could not be used (logged once per distinct problem)
        self.error: str | None = None
        self._stamp: tuple[int, int] | None = None

    def read(self) -> ControlFile | None:
        """Like :meth:`changed`, but a bad file is logged and kept in :attr:`error`."""
        try:
            control = self.changed()
        except Exception as exc:
            message = (
                str(exc)
                if isinstance(exc, ConfigurationError)
                else f"migration control file {self.path} could not be read "
                f"({type(exc).__name__}: {exc}); the previous stages stay in force"
            )
            if message != self.error:
                logger.error("flagport: %s", message)
            self.error = message
            return None
        if control is not None:
            self.error = None
        return control

    def changed(self) -> ControlFile | None:
        """The file's settings if it changed since the last call, else ``None``.

        A file that does not exist yet is not an error (``None``).

        :raises ConfigurationError: the file cannot be read, is not valid TOML, JSON or
            YAML, or its settings are invalid; the message names the file, and the line
            and path inside it of every problem.
        """
        try:
            st = self.path.stat()
        except FileNotFoundError:
            self._stamp = None
            return None
        stamp = (st.st_mtime_ns, st.st_size)
        if stamp == self._stamp:
            return None
        self._stamp = stamp
        try:
            document = _read(self.path, "migration control file")
        except ConfigurationError as exc:
            raise ConfigurationError(
                f"{exc.summary}; the previous stages stay in force until it is fixed",
                exc.problems,
            ) from None
        try:
            # An empty YAML file is no settings, not a null.
            return ControlFile.model_validate({} if document.data is None else document.data)
        except ValidationError as exc:
            problems = [
                (".".join(str(p) for p in err["loc"]), err["msg"])
                for err in exc.errors(include_input=False, include_url=False)
            ]
            raise ConfigurationError(
                f"migration control file {self.path} is invalid; the previous stages stay "
                f"in force until it is fixed",
                locate(problems, str(self.path), document),
            ) from None


class Housekeeping:
    """``chore`` every ``interval`` seconds on a daemon thread, from :meth:`start` to
    :meth:`stop`: re-reading the control file, writing summaries.

    Each start has a stop event of its own: a thread of the last run that outlived
    :meth:`stop`'s wait ends at its next wake-up, and a start after a stop runs again.
    """

    def __init__(self, chore: Callable[[], None]) -> None:
        self._chore = chore
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self, options: MigrationOptions, summaries: bool) -> None:
        """Start, when there is a chore: polling the control file, writing ``summaries``."""
        polling = options.control_file and options.control_poll_s > 0
        if not (polling or summaries):
            return
        interval = options.control_poll_s if polling else options.summary_interval_s
        interval = min(interval, options.summary_interval_s) if summaries else interval
        self._stop = stop = threading.Event()
        self._thread = threading.Thread(
            target=self._run, args=(stop, interval), name="flagport-migration", daemon=True
        )
        self._thread.start()

    def stop(self, timeout: float) -> None:
        """Stop it; wait at most ``timeout`` seconds for a chore in progress."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)

    def _run(self, stop: threading.Event, interval: float) -> None:
        while not stop.wait(interval):
            try:
                self._chore()
            except Exception:
                logger.exception("flagport: migration housekeeping failed")
