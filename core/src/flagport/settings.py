"""Settings: which provider, its options, strictness and event sinks.

Sources, lowest precedence first: ``[tool.flagport]`` in ``pyproject.toml``, then
``flagport.toml`` (or the file named by ``FLAGPORT_CONFIG``), both found from the
current directory up to the project root (:mod:`flagport.settings_files`), then
environment variables (``FLAGPORT_PROVIDER``, ``FLAGPORT_<PROVIDER>_<OPTION>``), then
settings a tool gives with :func:`override_settings` (the pytest plugin), then
constructor arguments. Every value remembers where it came from, so a bad one is
reported with its source and the fix; a relative path from a file resolves against
that file's directory.
"""

from __future__ import annotations

import json
import os
import threading
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from flagport._redact import MaskedDict
from flagport.errors import ConfigurationError, Location, shown
from flagport.settings_files import Layer, PathOption, discover, resolve_paths
from flagport.settings_sections import Sections, SectionValues, registered_sections
from flagport.suggest import closest_name, did_you_mean

__all__ = [
    "ALL_OPTIONS",
    "DEFAULT_PROVIDER",
    "PathOption",
    "Settings",
    "check_arguments",
    "load_settings",
    "override_settings",
    "validate_options",
]

DEFAULT_PROVIDER = "local"
#: The key of :attr:`Settings.sources` describing the options as a whole: which
#: settings files were read, or where none was found.
ALL_OPTIONS = ""
_TOP_LEVEL = {"provider", "strict", "events"}
#: Settings given by :func:`override_settings`, lowest precedence first.
_overrides: list[Layer] = []
_overrides_lock = threading.Lock()
M = TypeVar("M", bound=BaseModel)


@dataclass(frozen=True)
class Settings:
    """Resolved settings.

    :ivar provider: the provider name.
    :ivar options: that provider's options (not yet validated).
    :ivar strict: raise instead of serving defaults.
    :ivar events: the ``[events]`` table (sinks and their options).
    :ivar sources: where each option came from, by option name, and ``"provider"``;
        :data:`ALL_OPTIONS` says which settings files were read (or that none was).
    :ivar sections: each settings section a plugin registered, validated, by name
        (``sections["opentelemetry"]``; ``sections.given("opentelemetry")`` says
        whether any source set one of its options).
    :ivar event_sources: where each key of ``events`` came from, by key.

    ``options`` and ``events`` are dicts whose ``repr`` masks secrets, so printing the
    settings (or either table) never shows one; reading them gives the real values.
    """

    provider: str
    options: dict[str, Any] = field(default_factory=dict)
    strict: bool = False
    events: dict[str, Any] = field(default_factory=dict)
    sources: dict[str, str] = field(default_factory=dict)
    sections: Sections = field(default_factory=Sections)
    event_sources: dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        object.__setattr__(self, "options", MaskedDict(self.options))
        object.__setattr__(self, "events", MaskedDict(self.events))


def _env_value(raw: str, var: str) -> tuple[Any, str]:
    """The value of the environment variable ``var``, and its source for messages.

    A value starting with ``{`` or ``[`` is read as JSON. One that is not valid JSON stays
    text (a secret may start with a brace), and its source says why, so an option that
    wants a mapping or a list reports the JSON mistake, not only the type.

    :raises ConfigurationError: JSON nested deeper than Python's stack.
    """
    source = f"environment {var}"
    text = raw.strip()
    if not text.startswith(("{", "[")):
        return raw, source
    try:
        return json.loads(text), source
    except json.JSONDecodeError as exc:
        return raw, f"{source} (taken as text, not JSON: {exc.msg} at column {exc.colno})"
    except RecursionError:
        raise ConfigurationError(
            f"{source}: JSON nested too deep to read (mappings or lists inside each other "
            "hundreds of times); flatten it"
        ) from None


_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}


def _truthy(value: Any, source: str) -> bool:
    """A yes/no setting from a file or the environment; a word that is neither is an
    error (``FLAGPORT_STRICT=ture`` must not quietly mean false)."""
    if isinstance(value, bool):
        return value
    word = str(value).strip().lower()
    if word in _TRUE or word in _FALSE:
        return word in _TRUE
    raise ConfigurationError(
        f"{source}: {str(value)!r} is not true or false; write true or false (or 1/0, yes/no, "
        "on/off)"
    )


def check_arguments(provider: object, strict: object, events: object) -> None:
    """Refuse arguments given in code whose type cannot be right, before anything reads them.

    :raises ConfigurationError: naming the argument, what it got and what it takes.
    """
    if provider is not None and not isinstance(provider, str):
        raise ConfigurationError(
            f"argument provider: expected a provider name such as 'local' (a str) or a "
            f"Provider instance, got {type(provider).__name__}"
        )
    if strict is not None and not isinstance(strict, bool):
        raise ConfigurationError(
            f"argument strict: expected True or False, got {type(strict).__name__} {shown(strict)}"
        )
    if events is not None and not isinstance(events, Mapping):
        raise ConfigurationError(
            f"argument events: expected a mapping of [events] settings such as "
            f"{{'sinks': ['jsonl'], 'jsonl_path': 'events.jsonl'}}, got {type(events).__name__}"
        )


def _provider_names() -> list[str]:
    # Imported here: the plugin manager imports this module's neighbours.
    from flagport.plugins import provider_registry

    return list(provider_registry())


def _check_tables(layers: Iterable[Layer], known: Iterable[str]) -> None:
    """Refuse a table whose name is a typo of a known one (``[evnts]``, ``[locl]``).

    Other unknown tables stay allowed: they may belong to a provider not installed here.

    :raises ConfigurationError: naming the file, the table and the name it is close to.
    """
    names = {*_TOP_LEVEL, *known}
    for layer in layers:
        for key, value in layer.data.items():
            if key in names or not isinstance(value, dict):
                continue
            close = closest_name(key, names)
            if close is not None:
                raise ConfigurationError(
                    f"{layer.source}: unknown table [{key}]; did you mean [{close}]? Tables "
                    f"are [events], one per settings section and one per installed provider"
                )


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
    :param cwd: where the search for ``flagport.toml`` and ``pyproject.toml`` starts
        (it goes up to the project root).
    :param environ: the environment (defaults to ``os.environ``).
    :raises ConfigurationError: a settings file is unreadable or has an unknown key.
    """
    check_arguments(provider, strict, events)
    env = os.environ if environ is None else environ
    found = discover(Path(cwd) if cwd else Path.cwd(), env)
    overriding = tuple(_overrides)

    chosen, chosen_from = DEFAULT_PROVIDER, "default"
    for layer in found.layers:
        if "provider" in layer.data:
            chosen, chosen_from = str(layer.data["provider"]), f"{layer.source} provider"
    if env.get("FLAGPORT_PROVIDER"):
        chosen, chosen_from = env["FLAGPORT_PROVIDER"], "environment FLAGPORT_PROVIDER"
    for layer in overriding:
        if "provider" in layer.data:
            chosen, chosen_from = str(layer.data["provider"]), f"{layer.source} provider"
    if provider:
        chosen, chosen_from = provider, "argument provider"

    merged = _Merged(chosen)
    registered = registered_sections()
    sections = SectionValues(registered)
    _check_tables([*found.layers, *overriding], [*registered, *_provider_names()])
    for layer in found.layers:
        merged.add_layer(layer)
        sections.add_table(layer.data, layer.source)
    merged.add_environment(env)
    sections.add_environment(env, _env_value)
    for layer in overriding:
        merged.add_layer(layer)
        sections.add_table(layer.data, layer.source)
    for key, value in (options or {}).items():
        merged.set_option(key, value, f"argument {key}", None)
    if strict is not None:
        merged.strict = strict
    for key, value in (events or {}).items():
        merged.set_event(key, value, f"argument events[{key!r}]", None)
    merged.resolve_paths()

    origin = "; ".join([found.describe(), *(layer.source for layer in overriding)])
    if chosen_from == "default":
        origin += f"; provider {DEFAULT_PROVIDER!r} is the default"
    sources = {ALL_OPTIONS: origin, "provider": chosen_from, **merged.sources}
    validated = sections.validate(validate_options)
    return Settings(
        chosen, merged.options, merged.strict, merged.events, sources, validated,
        merged.event_sources,
    )  # fmt: skip


@contextmanager
def override_settings(
    table: Mapping[str, Any], *, source: str = "override_settings()", base: Path | None = None
) -> Iterator[Mapping[str, Any]]:
    """Settings every client in the process builds from until the block ends.

    For tools that configure an application from outside, such as the pytest plugin:
    process-wide (not per thread), so clients built on the application's own threads
    see them too. They sit above the environment and the files and below arguments in
    code; nested blocks stack, the innermost on top. The process environment is not
    touched, so subprocesses do not see them.

    :param table: settings in the shape of ``flagport.toml``:
        ``{"provider": "local", "strict": True, "local": {"path": "flags.yaml"}}``.
    :param source: how messages name these settings.
    :param base: the directory relative paths in ``table`` resolve against (the file
        they were written in); without it they stay relative to the current directory.
    """
    layer = Layer(source, dict(table), base)
    with _overrides_lock:
        _overrides.append(layer)
    try:
        yield layer.data
    finally:
        with _overrides_lock:
            # By identity: an equal layer entered elsewhere stays.
            _overrides[:] = [other for other in _overrides if other is not layer]


class _Merged:
    """Settings merged so far, each value with its source and the base of its paths."""

    def __init__(self, provider: str) -> None:
        self.provider = provider
        self.options: dict[str, Any] = {}
        self.sources: dict[str, str] = {}
        self.strict = False
        self.events: dict[str, Any] = {}
        self.event_sources: dict[str, str] = {}
        self._bases: dict[str, Path] = {}
        self._event_bases: dict[str, Path] = {}

    def set_option(self, key: str, value: Any, source: str, base: Path | None) -> None:
        self.options[key] = value
        self.sources[key] = source
        _set_base(self._bases, key, base)

    def set_event(self, key: str, value: Any, source: str, base: Path | None) -> None:
        self.events[key] = value
        self.event_sources[key] = source
        _set_base(self._event_bases, key, base)

    def add_layer(self, layer: Layer) -> None:
        data = layer.data
        for key in data:
            if key not in _TOP_LEVEL and not isinstance(data[key], dict):
                raise ConfigurationError(
                    f"{layer.source}: unknown top-level setting {key!r}; top-level keys are "
                    f"{sorted(_TOP_LEVEL)} and one table per provider (e.g. [{self.provider}])"
                )
        for key, value in data.get(self.provider, {}).items():
            source = f"{layer.source} [{self.provider}] {key}"
            self.set_option(key, value, source, layer.base)
        if "strict" in data:
            self.strict = _truthy(data["strict"], f"{layer.source} strict")
        for key, value in data.get("events", {}).items():
            self.set_event(key, value, f"{layer.source} [events] {key}", layer.base)

    def add_environment(self, env: Mapping[str, str]) -> None:
        prefix = f"FLAGPORT_{self.provider.upper()}_"
        for var, raw in env.items():
            if var.startswith(prefix):
                key = var[len(prefix) :].lower()
                self.set_option(key, *_env_value(raw, var), None)
            elif var.startswith("FLAGPORT_EVENTS_"):
                key = var[len("FLAGPORT_EVENTS_") :].lower()
                self.set_event(key, *_env_value(raw, var), None)
        if "FLAGPORT_STRICT" in env:
            self.strict = _truthy(env["FLAGPORT_STRICT"], "environment FLAGPORT_STRICT")

    def resolve_paths(self) -> None:
        """Resolve relative paths that came from a file against the file's directory."""
        if self._bases:
            # Imported here: plugins are loaded only when a file gave this provider options.
            from flagport.plugins import get_provider_class

            model = get_provider_class(self.provider).Options
            resolve_paths(self.options, self._bases, model)
        if self._event_bases:
            from flagport.events.settings import EventSettings

            resolve_paths(self.events, self._event_bases, EventSettings)


def _set_base(bases: dict[str, Path], key: str, base: Path | None) -> None:
    if base is None:
        bases.pop(key, None)
    else:
        bases[key] = base


def _given_by(options: Mapping[str, Any], sources: Mapping[str, str]) -> str:
    """Where the options given came from, in their order ("" when none has a source)."""
    return ", ".join(dict.fromkeys(sources[key] for key in options if key in sources))


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
            key = str(err["loc"][0]) if err["loc"] else ALL_OPTIONS
            path = ".".join(str(p) for p in err["loc"])
            # A missing option has no source of its own; nor has a rule across options,
            # which the options given broke (path= and url= together, say).
            source = sources.get(key) or sources.get(ALL_OPTIONS, "argument")
            if not err["loc"]:
                source = _given_by(options, sources) or source
                text = err["msg"].removeprefix("Value error, ")
            elif err["type"] == "extra_forbidden":
                fix = did_you_mean(key, valid) or f"valid options: {valid}"
                text = f"unknown option {key!r}; {fix}"
            elif err["type"] == "missing":
                text = f"option {key!r} is required; set it in code, the environment or a file"
            else:
                text = f"option {path!r}: {err['msg'].removeprefix('Value error, ')}"
            problems.append((Location(source, path), text))
        raise ConfigurationError(f"invalid options for {what}", problems) from None
