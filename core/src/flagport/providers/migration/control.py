"""The control file: stages, ramps and the sample rate, changed while running."""

from __future__ import annotations

import json
import logging
import tomllib
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from flagport.errors import ConfigurationError, Location
from flagport.providers.migration.options import ControlFile

__all__ = ["ControlFileReader", "read_structured"]

logger = logging.getLogger("flagport.providers.migration")


def read_structured(path: Path) -> Any:
    """Parse a TOML, JSON or YAML file, chosen by its suffix (anything else: YAML).

    :raises OSError: the file cannot be read.
    :raises ValueError: it is not valid in its format.
    """
    data = path.read_bytes()
    if path.suffix == ".toml":
        return tomllib.loads(data.decode("utf-8"))
    if path.suffix == ".json":
        return json.loads(data)
    try:
        return yaml.safe_load(data) or {}
    except yaml.YAMLError as exc:
        raise ValueError(f"not valid YAML: {exc}") from None


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

        :raises ConfigurationError: the file is invalid; the message names the file and
            the path inside it of every problem.
        :raises OSError: the file could not be read.
        :raises ValueError: the file is not valid TOML, JSON or YAML.
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
            return ControlFile.model_validate(read_structured(self.path))
        except ValidationError as exc:
            problems = [
                (Location(str(self.path), ".".join(str(p) for p in err["loc"])), err["msg"])
                for err in exc.errors(include_input=False, include_url=False)
            ]
            raise ConfigurationError(
                f"migration control file {self.path} is invalid; the previous stages stay "
                f"in force until it is fixed",
                problems,
            ) from None
