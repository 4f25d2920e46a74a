"""How every command ends on an error: one line, an exit code, a traceback only on request.

Exit codes: 0 success; 1 the input has a problem (a flags file, a users file, a
provider's options: the message says where and how to fix it), a check failed or a
flag evaluated with an error; 2 a usage error (click's) or an internal error (a bug:
any exception flagport did not expect, ``RecursionError`` and ``MemoryError``
included), printed as one line unless ``flagport --debug`` asks for the traceback.
"""

from __future__ import annotations

import traceback
from typing import Any

import click

from flagport.cli._output import fail

__all__ = ["INTERNAL_ERROR", "CommandGroup", "debugging", "internal_error"]

INTERNAL_ERROR = 2


def debugging() -> bool:
    """Whether ``flagport --debug`` (or ``FLAGPORT_DEBUG=1``) asked for tracebacks."""
    ctx = click.get_current_context(silent=True)
    return bool(ctx and ctx.find_root().params.get("debug"))


def internal_error(exc: BaseException, where: str = "") -> str:
    """The one-line report of a bug (the traceback first, on stderr, under ``--debug``)."""
    from flagport.errors import describe  # on an error only: --help loads click alone

    if debugging():
        traceback.print_exception(exc)
    prefix = f"{where}: " if where else ""
    error = describe(exc, one_line=True)
    return (
        f"{prefix}internal error: {error}. This is a bug in flagport; run again "
        f"with 'flagport --debug ...' for the traceback and report it"
    )


class CommandGroup(click.Group):
    """The top-level group: turns every error a command lets out into one line."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except (click.ClickException, click.exceptions.Exit, click.Abort):
            raise
        except Exception as exc:
            # Imported on an error only: ``flagport --help`` loads click alone.
            from flagport.errors import FlagportError, describe

            if not isinstance(exc, FlagportError | OSError):
                fail(internal_error(exc), code=INTERNAL_ERROR)
            # Bad input (flagport's own errors say where) or a file that cannot be
            # read or written (the message names it).
            if debugging():
                traceback.print_exception(exc)
            fail(str(exc) if isinstance(exc, FlagportError) else describe(exc, one_line=True))
