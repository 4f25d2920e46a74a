"""Settings: which provider, its options, strictness and event sinks.

Sources, lowest precedence first: ``[tool.flagport]`` in ``pyproject.toml``, then
``flagport.toml`` (or the file named by ``FLAGPORT_CONFIG``), then environment
variables (``FLAGPORT_PROVIDER``, ``FLAGPORT_<PROVIDER>_<OPTION>``), then constructor
arguments. Every value remembers where it came from, so a bad one is reported with
its source and the fix.
"""

from __future__ import annotations

import difflib
import json
import os
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from flagport._redact import MaskedDict
from flagport.errors import ConfigurationError, Location

__all__ = ["DEFAULT_PROVIDER", "Settings", "load_settings", "validate_options"]

DEFAULT_PROVIDER = "local"
_TOP_LEVEL = {"provider", "strict", "events"}
M = TypeVar("M", bound=BaseModel)


@dataclass(frozen=True)
class Settings:
    """Resolved settings.

    :ivar provider: the provider name.
    :ivar options: that provider's options (not yet validated).
    :ivar strict: raise instead of serving defaults.
    :ivar events: the ``[events]`` table (sinks and their options).
    :ivar sources: where each option came from, by option name (and ``"provider"``).

    ``options`` and ``events`` are dicts whose ``repr`` masks secrets, so printing the
    settings (or either table) never shows one; reading them gives the real values.
    """

    provider: str
    options: dict[str, Any] = field(default_factory=dict)
    strict: bool = False
    events: dict[str, Any] = field(default_factory=dict)
    sources: dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        object.__setattr__(self, "options", MaskedDict(self.options))
        object.__setattr__(self, "events", MaskedDict(self.events))


def _read_toml(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as fh:
            return tomllib.load(fh)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigurationError(
            f"{path}: not valid TOML ({exc}); fix the syntax at the position shown"
        ) from None


def _file_layers(cwd: Path, environ: Mapping[str, str]) -> list[tuple[str, dict[str, Any]]]:
    layers: list[tuple[str, dict[str, Any]]] = []
    pyproject = cwd / "pyproject.toml"
    if pyproject.is_file():
        table = _read_toml(pyproject).get("tool", {}).get("flagport")
        if isinstance(table, dict):
            layers.append((f"{pyproject} [tool.flagport]", table))
    explicit = environ.get("FLAGPORT_CONFIG")
    config = Path(explicit) if explicit else cwd / "flagport.toml"
    if explicit and not config.is_file():
        raise ConfigurationError(
            f"FLAGPORT_CONFIG names {config}, which does not exist; fix the path or unset it"
        )
    if config.is_file():
        layers.append((str(config), _read_toml(config)))
    return layers


def _env_value(raw: str) -> Any:
    text = raw.strip()
    if text[:1] in "{[":
        try:
            return json.loads(text)
        except json.JSONDecodeError:
            return raw
    return raw


def _truthy(value: Any) -> bool:
    if isinstance(value, str):
        return value.strip().lower() in {"1", "true", "yes", "on"}
    return bool(value)


def load_settings(
    provider: str | None = None,
    options: Mapping[str, Any] | None = None,
    *,
    strict: bool | None = None,
    events: Mapping[str, Any] | None = None,
    cwd: str | os.PathLike[str] | None = None,
    environ: Mapping[str, str] | None = None,
) -> Settings:
    """Merge every settings source into one :class:`Settings`.

    :param provider: provider name given in code (highest precedence).
    :param options: provider options given in code.
    :param strict: strictness given in code.
    :param events: event settings given in code.
    :param cwd: where to look for ``pyproject.toml`` and ``flagport.toml``.
    :param environ: the environment (defaults to ``os.environ``).
    """
    env = os.environ if environ is None else environ
    layers = _file_layers(Path(cwd) if cwd else Path.cwd(), env)

    chosen, chosen_from = DEFAULT_PROVIDER, "default"
    for source, data in layers:
        if "provider" in data:
            chosen, chosen_from = str(data["provider"]), f"{source} provider"
    if env.get("FLAGPORT_PROVIDER"):
        chosen, chosen_from = env["FLAGPORT_PROVIDER"], "environment FLAGPORT_PROVIDER"
    if provider:
        chosen, chosen_from = provider, "argument provider"

    merged: dict[str, Any] = {}
    sources: dict[str, str] = {"provider": chosen_from}
    is_strict = False
    event_settings: dict[str, Any] = {}
    for source, data in layers:
        for key in data:
            if key not in _TOP_LEVEL and not isinstance(data[key], dict):
                raise ConfigurationError(
                    f"{source}: unknown top-level setting {key!r}; top-level keys are "
                    f"{sorted(_TOP_LEVEL)} and one table per provider (e.g. [{chosen}])"
                )
        table = data.get(chosen, {})
        for key, value in table.items():
            merged[key] = value
            sources[key] = f"{source} [{chosen}] {key}"
        if "strict" in data:
            is_strict = _truthy(data["strict"])
        event_settings.update(data.get("events", {}))

    prefix = f"FLAGPORT_{chosen.upper()}_"
    for var, raw in env.items():
        if var.startswith(prefix):
            key = var[len(prefix) :].lower()
            merged[key] = _env_value(raw)
            sources[key] = f"environment {var}"
        elif var.startswith("FLAGPORT_EVENTS_"):
            event_settings[var[len("FLAGPORT_EVENTS_") :].lower()] = _env_value(raw)
    if "FLAGPORT_STRICT" in env:
        is_strict = _truthy(env["FLAGPORT_STRICT"])

    for key, value in (options or {}).items():
        merged[key] = value
        sources[key] = f"argument {key}"
    if strict is not None:
        is_strict = strict
    if events:
        event_settings.update(events)
    return Settings(chosen, merged, is_strict, event_settings, sources)


def validate_options(
    model: type[M], options: Mapping[str, Any], sources: Mapping[str, str], what: str
) -> M:
    """Validate ``options`` against ``model``; report every problem with its source.

    Input values are never echoed, so secrets cannot leak into the message.

    :param what: what the options are for, e.g. ``"provider 'growthbook'"``.
    :raises ConfigurationError: listing each bad option, where it came from and the fix.
    """
    try:
        return model.model_validate(dict(options))
    except ValidationError as exc:
        valid = sorted(
            {field.alias or name for name, field in model.model_fields.items()}
            | set(model.model_fields)
        )
        problems: list[tuple[Location, str]] = []
        for err in exc.errors(include_input=False, include_url=False):
            key = str(err["loc"][0]) if err["loc"] else ""
            path = ".".join(str(p) for p in err["loc"])
            source = sources.get(key, "argument")
            if err["type"] == "extra_forbidden":
                close = difflib.get_close_matches(key, valid, n=1)
                fix = f"did you mean {close[0]!r}?" if close else f"valid options: {valid}"
                text = f"unknown option {key!r}; {fix}"
            elif err["type"] == "missing":
                text = f"option {key!r} is required; set it in code, the environment or a file"
            else:
                text = f"option {path!r}: {err['msg']}"
            problems.append((Location(source, path), text))
        raise ConfigurationError(f"invalid options for {what}", problems) from None
