"""The ``flagport`` command line.

Each command lives in a module per concern (``core``, ``local``, ``migrate``); the
table below names them, so this file is a table of contents and ``flagport --help``
imports none of them (see :mod:`flagport.cli._lazy`). Exit codes and error handling
are the same for every command (see :mod:`flagport.cli._errors`).
"""

from __future__ import annotations

import click

from flagport.cli._errors import CommandGroup
from flagport.cli._lazy import LazyCommand, LazyGroup

__all__ = ["COMMANDS", "cli", "main"]

#: Every command: where it lives and the summary ``flagport --help`` lists.
COMMANDS = {
    "providers": LazyCommand(
        "flagport.cli.core:providers_command",
        "List the installed providers and where they come from.",
    ),
    "eval": LazyCommand("flagport.cli.core:eval_command", "Evaluate one flag for one user."),
    "validate": LazyCommand(
        "flagport.cli.local:validate_command",
        "Check flags files; report every problem with its file, line and path.",
    ),
    "schema": LazyCommand(
        "flagport.cli.local:schema_command",
        "Print the JSON Schema of the flags file, for editors and CI checks.",
    ),
    "explain": LazyCommand(
        "flagport.cli.local:explain_command",
        "Show how a flag is evaluated for a user: each rule, each sub-condition's outcome, "
        "the bucket against its threshold, and the final reason.",
    ),
    "keygen": LazyCommand(
        "flagport.cli.keys:keygen_command",
        "Make an ed25519 key pair for signing flags files; print the public key.",
    ),
    "sign": LazyCommand(
        "flagport.cli.keys:sign_command",
        "Sign a flags file: write its detached ed25519 signature to FILE.sig.",
    ),
    "compare": LazyCommand(
        "flagport.cli.compare:compare_command",
        "Evaluate every flag for every user through two providers and compare.",
    ),
    "import": LazyCommand(
        "flagport.cli.importer:import_command",
        "Translate a vendor's definitions into a flags file, and prove every user agrees.",
    ),
    "migrate": LazyCommand(
        "flagport.cli.migrate:migrate_group",
        "Follow a live migration: summarise its log, plan the next stages.",
    ),
}


class _RootGroup(CommandGroup, LazyGroup):
    """The top-level group: lazy commands, one-line errors."""


@click.group(
    cls=_RootGroup,
    lazy_commands=COMMANDS,
    context_settings={"help_option_names": ["-h", "--help"]},
)
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


def main() -> None:
    """Console-script entry point."""
    cli()
