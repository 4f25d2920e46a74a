"""The plugin's command-line and ini options, resolved once per session.

Command-line options win over ini options. Every mistake is a
:class:`pytest.UsageError` naming the option and the fix, raised before any test runs.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Any

import pytest

from flagport import ConfigurationError, FlagNames
from flagport._documents import read_document
from flagport.settings import override_settings

__all__ = ["DeadOverrides", "PluginSettings", "add_options", "load_known_flags"]

DEFAULT_PROVIDER = "passall"
_KINDS = ("gates", "experiments", "configs")


class DeadOverrides(StrEnum):
    """What to do about flags forced in a test but never evaluated by it."""

    REPORT = "report"
    ERROR = "error"
    OFF = "off"


@dataclass(frozen=True)
class PluginSettings:
    """Resolved plugin settings for one pytest session.

    :ivar provider: the provider the ``flagport`` fixture's client uses.
    :ivar option_layers: that provider's options as given (strings from the command
        line), by where they were written: ``(source, options, base directory)``, the
        ini file's first, so that the command line wins and a relative path resolves
        against the place it was written in.
    :ivar explicit: whether the provider was chosen by an option (not the default);
        then flagport's own settings point at it for the whole session.
    :ivar strict: the fixture's client raises instead of serving defaults.
    :ivar pass_all_gates: the whole run uses ``passall`` (every gate on).
    :ivar known: the flag names from ``--flagport-known-flags``, or ``None``.
    :ivar known_source: the file those names came from.
    :ivar dead_overrides: report, fail on, or ignore dead overrides.
    """

    provider: str = DEFAULT_PROVIDER
    option_layers: tuple[tuple[str, dict[str, Any], Path | None], ...] = ()
    explicit: bool = False
    strict: bool = True
    pass_all_gates: bool = False
    known: FlagNames | None = None
    known_source: str | None = None
    dead_overrides: DeadOverrides = DeadOverrides.REPORT

    @property
    def options(self) -> dict[str, Any]:
        """The provider's options, the command line's over the ini file's."""
        merged: dict[str, Any] = {}
        for _, options, _ in self.option_layers:
            merged.update(options)
        return merged

    @contextmanager
    def applied(self) -> Iterator[None]:
        """flagport's settings select this provider, its options and strictness.

        Through :func:`flagport.settings.override_settings`, until the block ends: every
        client built from settings in the process (not in subprocesses) uses them.
        """
        with ExitStack() as stack:
            table = {"provider": self.provider, "strict": self.strict}
            stack.enter_context(override_settings(table, source="pytest-flagport"))
            for source, options, base in self.option_layers:
                layer = {self.provider: options}
                stack.enter_context(override_settings(layer, source=source, base=base))
            yield

    @classmethod
    def from_config(cls, config: pytest.Config) -> PluginSettings:
        """Read the options of a configured session.

        :raises pytest.UsageError: an option is malformed or contradicts another.
        """
        pass_all = bool(config.getoption("flagport_pass_all_gates")) or bool(
            config.getini("flagport_pass_all_gates")
        )
        cli_provider = config.getoption("flagport_provider")
        ini_provider = str(config.getini("flagport_provider") or "").strip()
        provider = cli_provider or ini_provider or DEFAULT_PROVIDER
        if pass_all and provider != DEFAULT_PROVIDER:
            raise pytest.UsageError(
                f"--flagport-pass-all-gates runs every test on the 'passall' provider, but the "
                f"provider is set to {provider!r}; drop one of the two options"
            )
        ini_dir = config.inipath.parent if config.inipath else config.rootpath
        ini = f"{config.inipath} flagport_options" if config.inipath else "ini flagport_options"
        given = (
            (
                ini,
                _parse_options(config.getini("flagport_options"), "ini flagport_options"),
                ini_dir,
            ),
            # A relative path means the same file wherever a test later chdirs to.
            (
                "--flagport-option",
                _parse_options(config.getoption("flagport_option") or [], "--flagport-option"),
                Path.cwd(),
            ),
        )
        layers = tuple(layer for layer in given if layer[1])
        known_path: Path | None = None
        if known_arg := config.getoption("flagport_known_flags"):
            known_path = Path(known_arg).resolve()
        elif known_ini := str(config.getini("flagport_known_flags") or "").strip():
            known_path = (ini_dir / known_ini).resolve()
        dead = config.getoption("flagport_dead_overrides") or config.getini(
            "flagport_dead_overrides"
        )
        try:
            dead_mode = DeadOverrides(str(dead).strip().lower())
        except ValueError:
            raise pytest.UsageError(
                f"flagport_dead_overrides is {dead!r}; use one of report, error, off"
            ) from None
        return cls(
            provider=provider,
            option_layers=layers,
            explicit=pass_all or bool(cli_provider or ini_provider or layers),
            strict=bool(config.getini("flagport_strict")),
            pass_all_gates=pass_all,
            known=load_known_flags(known_path) if known_path else None,
            known_source=str(known_path) if known_path else None,
            dead_overrides=dead_mode,
        )


def _parse_options(items: list[str], where: str) -> dict[str, Any]:
    options: dict[str, Any] = {}
    for item in items:
        key, sep, value = item.partition("=")
        key = key.strip()
        if not sep or not key:
            raise pytest.UsageError(
                f"{where}: {item!r} is not KEY=VALUE; write e.g. path=flags.yaml"
            )
        options[key] = value.strip()
    return options


def load_known_flags(path: Path) -> FlagNames:
    """The gate, experiment and config names of a flags file (YAML, JSON or TOML).

    Only the names are read (the keys of its ``gates``, ``experiments`` and
    ``configs`` tables, or lists of names), so any file in the local provider's
    format works, and so does a plain list kept for a vendor's flags.

    :raises pytest.UsageError: the file is missing, unreadable, not valid in its format
        (with the line) or has no such tables.
    """
    try:
        data = read_document(
            path,
            what="flagport known flags file",
            fix="fix --flagport-known-flags / flagport_known_flags",
        ).data
    except ConfigurationError as exc:
        raise pytest.UsageError(str(exc)) from None
    if not isinstance(data, dict) or not any(k in data for k in _KINDS):
        raise pytest.UsageError(
            f"flagport known flags file {path}: expected top-level 'gates', 'experiments' "
            f"and/or 'configs' (tables or lists of names)"
        )
    names: list[frozenset[str]] = []
    for kind in _KINDS:
        entry = data.get(kind) or {}
        if not isinstance(entry, dict | list):
            raise pytest.UsageError(
                f"flagport known flags file {path}: {kind!r} must be a table or a list of "
                f"names, not {type(entry).__name__}"
            )
        names.append(frozenset(str(n) for n in entry))
    return FlagNames(*names)


def add_options(parser: pytest.Parser) -> None:
    """Declare the plugin's command-line and ini options."""
    group = parser.getgroup("flagport", "feature flags (pytest-flagport)")
    group.addoption(
        "--flagport-provider",
        dest="flagport_provider",
        metavar="NAME",
        help="provider of the flagport fixture's client (default: passall); also the "
        "provider flagport's settings select during the run",
    )
    group.addoption(
        "--flagport-option",
        dest="flagport_option",
        action="append",
        metavar="KEY=VALUE",
        help="an option of that provider, e.g. path=flags.yaml (repeatable)",
    )
    group.addoption(
        "--flagport-pass-all-gates",
        dest="flagport_pass_all_gates",
        action="store_true",
        help="run every test with every gate on (the passall provider), fixture or not",
    )
    group.addoption(
        "--flagport-known-flags",
        dest="flagport_known_flags",
        metavar="FILE",
        help="flags file (YAML/JSON/TOML) naming every real flag: forcing or evaluating "
        "another name fails the test in strict mode",
    )
    group.addoption(
        "--flagport-dead-overrides",
        dest="flagport_dead_overrides",
        choices=[m.value for m in DeadOverrides],
        help="flags forced but never evaluated in their test: report (default), error "
        "(the run fails) or off",
    )
    parser.addini("flagport_provider", "provider of the flagport fixture (default passall)")
    parser.addini(
        "flagport_options",
        "provider options, one KEY=VALUE per line (a relative path is relative to this file)",
        type="linelist",
        default=[],
    )
    parser.addini(
        "flagport_strict",
        "raise on unknown flags and provider errors in tests (default true)",
        type="bool",
        default=True,
    )
    parser.addini(
        "flagport_pass_all_gates",
        "run every test with every gate on (default false)",
        type="bool",
        default=False,
    )
    parser.addini(
        "flagport_known_flags", "flags file naming every real flag (relative to this file)"
    )
    parser.addini(
        "flagport_dead_overrides",
        "report, error or off: flags forced but never evaluated (default report)",
        default="report",
    )
