"""The ``flagport`` command line.

Each command module exposes ``COMMANDS``, a list of click commands added to the
group; a module per concern keeps this file a table of contents. Exit codes and
error handling are the same for every command (see :mod:`flagport.cli._errors`).
"""

from __future__ import annotations

import importlib

import click

from flagport.cli._errors import CommandGroup

__all__ = ["cli", "main"]

COMMAND_MODULES = ("flagport.cli.core", "flagport.cli.local", "flagport.cli.migrate")


@click.group(cls=CommandGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="flagport")
@click.option(
    "--debug",
    is_flag=True,
    envvar="FLAGPORT_DEBUG",
    help="Print the traceback of an error (also FLAGPORT_DEBUG=1).",
)
def cli(debug: bool) -> None:
    """flagport: feature gates, experiments and configs from any provider.

    Exit codes: 0 success; 1 a problem in the input (the message says where) or a
    failed check; 2 a usage error or an internal error (a bug).
    """


for _module in COMMAND_MODULES:
    for _command in importlib.import_module(_module).COMMANDS:
        cli.add_command(_command)


def main() -> None:
    """Console-script entry point."""
    cli()
