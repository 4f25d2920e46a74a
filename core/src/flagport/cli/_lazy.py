"""A command group that imports a command's module only when that command is used.

``flagport --help`` lists every command but runs none: importing them all (rich, the
local evaluator, the migration package) would triple what a ``--help`` costs. Each
command is named in a table with the module that defines it and its one-line summary
(the first paragraph of its docstring, which the help listing shows); the module is
imported when the command runs or its own help is asked for. This is click's lazy
group pattern, plus summaries so that the listing itself imports nothing.
"""

from __future__ import annotations

import importlib
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import click

__all__ = ["LazyCommand", "LazyGroup"]


@dataclass(frozen=True)
class LazyCommand:
    """Where a command lives and the summary the listing shows for it.

    :param target: ``"module:attribute"`` of the click command.
    :param summary: the first paragraph of the command's docstring (a test checks
        that the two agree).
    """

    target: str
    summary: str

    def load(self) -> click.Command:
        """Import the command's module and return the command."""
        module, _, attribute = self.target.partition(":")
        command = getattr(importlib.import_module(module), attribute)
        if not isinstance(command, click.Command):
            raise TypeError(f"{self.target} is not a click command")
        return command


class LazyGroup(click.Group):
    """A group whose :class:`LazyCommand` entries are imported on first use.

    :param lazy_commands: command name to where it lives; commands added with
        :meth:`add_command` work as usual.
    """

    def __init__(
        self, *args: Any, lazy_commands: Mapping[str, LazyCommand] | None = None, **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        self.lazy_commands = dict(lazy_commands or {})

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*super().list_commands(ctx), *self.lazy_commands})

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        lazy = self.lazy_commands.get(cmd_name)
        if lazy is not None and cmd_name not in self.commands:
            self.add_command(lazy.load(), cmd_name)
        return super().get_command(ctx, cmd_name)

    def resolve_command(
        self, ctx: click.Context, args: list[str]
    ) -> tuple[str | None, click.Command | None, list[str]]:
        # click suggests from the commands loaded so far, which here is none of them.
        name = args[0] if args else ""
        unknown = name[:1] not in ("", "-") and self.get_command(ctx, name) is None
        if unknown and not ctx.resilient_parsing:
            from flagport.suggest import closest_name  # on a typo only

            close = closest_name(name, self.list_commands(ctx))
            hint = f" Did you mean {close!r}?" if close else ""
            raise click.UsageError(f"No such command {name!r}.{hint}", ctx)
        return super().resolve_command(ctx, args)

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        # click's own listing, over stand-ins that carry each summary as their help:
        # it shortens them to the width exactly as it would the real commands' help.
        stand_ins: dict[str, click.Command] = {
            name: click.Command(name, help=lazy.summary)
            for name, lazy in self.lazy_commands.items()
        }
        listing = click.Group(commands={**stand_ins, **self.commands})
        listing.format_commands(ctx, formatter)
