"""Everything the commands print goes through here.

Consoles never read rich markup: a message, a flag name, a path or an option value
is printed exactly as given (``pip install 'flagport[statsig]'`` keeps its brackets).
Colour comes only from :class:`rich.text.Text` spans built by :func:`styled`.

Output that is not a terminal (a pipe, a file, a CI log) is not wrapped or squeezed
to 80 columns: tables take their natural width so no name is cut with ``…``.

rich is imported by the functions that print, not with this module: the command
group imports this module for its error line, and ``flagport --help`` prints none.
"""

from __future__ import annotations

import errno
import json
import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any, NoReturn, TypeAlias

import click

if TYPE_CHECKING:
    from rich.console import Console, RenderableType
    from rich.text import Text

from flagport.finite_json import finite

__all__ = [
    "Part",
    "error",
    "fail",
    "plural",
    "print_json",
    "say",
    "show",
    "stderr_console",
    "stdout_console",
    "styled",
    "warn",
    "write_output",
    "writing",
]

#: A piece of a line: plain text, or ``(text, style)`` for a coloured span.
Part: TypeAlias = "str | tuple[str, str] | Text"

# Wide enough for any table a person would still read; rich needs a number.
_UNLIMITED = 100_000


def _console(stream: IO[str]) -> Console:
    # Built per call against the current sys.stdout/stderr, so redirection (and
    # click's test runner) is honoured.
    from rich.console import Console

    width: int | None = None
    if not stream.isatty():
        columns = os.environ.get("COLUMNS", "")
        width = int(columns) if columns.isdigit() else _UNLIMITED
    return Console(file=stream, markup=False, highlight=False, emoji=False, width=width)


def stdout_console() -> Console:
    """A console on stdout (for tables and lines of a report)."""
    return _console(sys.stdout)


def stderr_console() -> Console:
    """A console on stderr (for problems, warnings and progress bars)."""
    return _console(sys.stderr)


def styled(*parts: Part) -> Text:
    """One line of text from ``parts``; nothing in them is read as markup, and control
    characters (a name read from a file may hold escape sequences) are shown as ``\\xNN``."""
    from rich.text import Text

    from flagport.errors import printable  # not at import: --help loads only this module

    text = Text()
    for part in parts:
        if isinstance(part, tuple):
            text.append(printable(part[0]), style=part[1])
        elif isinstance(part, str):
            text.append(printable(part))
        else:
            text.append(part)
    return text


def say(*parts: Part, err: bool = False) -> None:
    """Print one line (on stderr with ``err``); long lines are not wrapped."""
    console = stderr_console() if err else stdout_console()
    console.print(styled(*parts), soft_wrap=True)


def show(renderable: RenderableType) -> None:
    """Print a table (or other rich renderable) on stdout."""
    from rich.cells import cell_len
    from rich.table import Table

    if isinstance(renderable, Table) and renderable.title is not None:
        # A table wraps its title to its own width: widen it to fit the title instead
        # (a terminal narrower than that still caps it).
        title = cell_len(str(renderable.title)) + 2
        renderable.min_width = max(renderable.min_width or 0, title)
    stdout_console().print(renderable)


def warn(message: str) -> None:
    """Print ``warning: message`` on stderr."""
    say(("warning:", "bold yellow"), " ", message, err=True)


def error(message: str) -> None:
    """Print ``error: message`` on stderr (the one way every command reports an error)."""
    say(("error:", "bold red"), " ", message, err=True)


def fail(message: str, code: int = 1) -> NoReturn:
    """Print ``error: message`` on stderr and exit with ``code``.

    Exit codes: 1 the input has a problem (a file, an option value, a provider's
    options); 2 a usage error (click's) or an internal error (a bug).
    """
    error(message)
    raise SystemExit(code)


def _why_not_written(path: Path, exc: OSError) -> str:
    """What stopped ``path`` from being written, and the fix, in a person's words."""
    folder = path.parent
    if exc.errno == errno.ENOENT and not folder.exists():
        return f"the folder {folder} does not exist; create it first (mkdir -p {folder})"
    if exc.errno == errno.ENOTDIR:
        return "a part of the path is a file, not a folder; choose a path inside a folder"
    if exc.errno == errno.EISDIR:
        return "it is a folder; give the path of a file"
    if exc.errno in (errno.EACCES, errno.EPERM):
        return (
            f"permission denied; choose a folder you can write to, or change {folder}'s permissions"
        )
    if exc.errno == errno.EROFS:
        return "the file system is read-only; choose a folder on a writable one"
    if exc.errno == errno.ENOSPC:
        return "no space left on the device; free some space or write elsewhere"
    return f"{exc.strerror or exc}; check the path"


@contextmanager
def writing(path: str | os.PathLike[str]) -> Iterator[None]:
    """Run the block that writes ``path``; if the system refuses, end the command with
    one line (which file, why, the fix) and exit code 1 instead of the bare OS error.
    """
    try:
        yield
    except OSError as exc:
        fail(f"cannot write {os.fspath(path)}: {_why_not_written(Path(path), exc)}")


def write_output(path: str | os.PathLike[str], data: str | bytes, *, private: bool = False) -> None:
    """Write a command's output file in one step: a provider watching it (a flags file,
    a migration control file) reads the old version or the new one, never a part.

    Through a symbolic link, the file it points at is replaced (as an in-place write
    would change it); a rewrite keeps the file's permissions. A failure ends the command
    as :func:`writing` says.

    :param private: readable by its owner only (a private key).
    """
    from flagport._files import replace_file, shared_mode

    with writing(path):
        real = Path(os.path.realpath(path))
        raw = data.encode("utf-8") if isinstance(data, str) else data
        replace_file(real, raw, mode=0o600 if private else shared_mode(real))


def plural(count: int, singular: str, plural_form: str | None = None) -> str:
    """``"1 config"``, ``"2 configs"``; ``plural_form`` for irregular words."""
    word = singular if count == 1 else (plural_form or singular + "s")
    return f"{count} {word}"


def print_json(data: Any) -> None:
    """Print ``data`` as valid JSON on stdout (for scripts).

    JSON has no infinity or NaN; a vendor can still serve them, so a non-finite
    number is printed as the string ``"Infinity"``, ``"-Infinity"`` or ``"NaN"``.
    """
    click.echo(json.dumps(finite(data), indent=2, allow_nan=False, default=str))
