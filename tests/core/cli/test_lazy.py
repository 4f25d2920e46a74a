"""``flagport --help`` imports no command's module; each command loads when it is used."""

from __future__ import annotations

import json
import subprocess
import sys

import click
import pytest
from click.testing import CliRunner

from flagport.cli import COMMANDS, cli
from flagport.cli._lazy import LazyCommand, LazyGroup

# What the command modules import and the help listing must not: the commands
# themselves, rich (tables, colour), YAML, pydantic and flagport's models (errors are
# imported when one happens), the local evaluator and the migration package.
NOT_FOR_HELP = ("flagport.cli.core", "flagport.cli.local", "flagport.cli.migrate", "rich", "yaml")
NOT_FOR_HELP += ("pydantic", "flagport.errors", "flagport.client", "flagport.user")
NOT_FOR_HELP += ("flagport.cli.compare",)
NOT_FOR_HELP_PACKAGES = ("flagport.providers.local", "flagport.providers.migration")


def _modules_after(*args: str) -> set[str]:
    code = (
        "import json, sys\n"
        "from flagport.cli import main\n"
        f"sys.argv = ['flagport', *{list(args)!r}]\n"
        "try:\n    main()\nexcept SystemExit:\n    pass\n"
        "print(json.dumps(sorted(sys.modules)), file=sys.stderr)\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return set(json.loads(done.stderr.splitlines()[-1]))


def _unwanted(modules: set[str]) -> list[str]:
    return sorted(
        name
        for name in modules
        if name in NOT_FOR_HELP
        or name.split(".")[0] in NOT_FOR_HELP
        or name.startswith(tuple(f"{package}." for package in NOT_FOR_HELP_PACKAGES))
        or name in NOT_FOR_HELP_PACKAGES
    )


@pytest.mark.parametrize("args", [("--help",), ()], ids=["--help", "no-arguments"])
def test_the_help_listing_imports_no_command(args: tuple[str, ...]) -> None:
    modules = _modules_after(*args)
    assert "click" in modules  # the probe ran the command line
    assert _unwanted(modules) == []


def test_a_command_s_help_imports_its_module_only() -> None:
    modules = _modules_after("eval", "--help")
    assert "flagport.cli.core" in modules
    assert "flagport.cli.migrate" not in modules
    assert "flagport.providers.migration" not in modules


def test_every_command_is_listed_and_loads() -> None:
    ctx = click.Context(cli)
    assert cli.list_commands(ctx) == sorted(COMMANDS)
    for name in COMMANDS:
        command = cli.get_command(ctx, name)
        assert isinstance(command, click.Command)
        assert command.name == name


@pytest.mark.parametrize("name", sorted(COMMANDS))
def test_each_summary_is_the_commands_own(name: str) -> None:
    # The listing shows the table's summary without importing the command: it must be
    # what click would have shown from the command's docstring, at any width.
    command = COMMANDS[name].load()
    stand_in = click.Command(name, help=COMMANDS[name].summary)
    for limit in (30, 45, 60, 200):
        assert stand_in.get_short_help_str(limit) == command.get_short_help_str(limit)


def test_the_listing_matches_an_eager_group() -> None:
    eager = click.Group("flagport", commands={name: c.load() for name, c in COMMANDS.items()})
    lazy = LazyGroup("flagport", lazy_commands=COMMANDS)
    for width in (60, 80, 120):
        shown = []
        for group in (eager, lazy):
            formatter = click.HelpFormatter(width=width)
            group.format_commands(click.Context(group), formatter)
            shown.append(formatter.getvalue())
        assert shown[0] == shown[1]
        assert "validate" in shown[1]


def test_a_target_that_is_not_a_command_is_reported() -> None:
    with pytest.raises(TypeError, match=r"flagport\.cli\._lazy:LazyGroup is not a click command"):
        LazyCommand("flagport.cli._lazy:LazyGroup", "x").load()


def test_an_unknown_command_is_a_usage_error() -> None:
    result = CliRunner().invoke(cli, ["evl"])
    assert result.exit_code == 2
    assert "No such command 'evl'" in result.output


@pytest.mark.parametrize(("typo", "command"), [("evl", "eval"), ("valdate", "validate")])
def test_a_misspelt_command_suggests_the_close_one(typo: str, command: str) -> None:
    # click suggests from the commands loaded so far: none, in a lazy group.
    result = CliRunner().invoke(cli, [typo])
    assert result.exit_code == 2
    assert result.stderr.endswith(f"Error: No such command '{typo}'. Did you mean '{command}'?\n")
    assert "Did you mean" not in CliRunner().invoke(cli, ["zzzz"]).stderr
