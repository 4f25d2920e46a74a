"""The ``flagport`` command line.

Each command module exposes ``COMMANDS``, a list of click commands added to the
group; a module per concern keeps this file a table of contents.
"""

from __future__ import annotations

import importlib

import click

__all__ = ["cli", "main"]

COMMAND_MODULES = ("flagport.cli.core", "flagport.cli.local", "flagport.cli.migrate")


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="flagport")
def cli() -> None:
    """flagport: feature gates, experiments and configs from any provider."""


for _module in COMMAND_MODULES:
    for _command in importlib.import_module(_module).COMMANDS:
        cli.add_command(_command)


def main() -> None:
    """Console-script entry point."""
    cli()
