"""``flagport providers`` and ``flagport eval``."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click
from rich.table import Table

from flagport._documents import FORMATS
from flagport.cli._common import parse_options, parse_user
from flagport.cli._output import print_json, say, show, styled
from flagport.cli.local import _load, name_hint
from flagport.client import Flagport
from flagport.errors import shown
from flagport.plugins import provider_registry
from flagport.reasons import ErrorCode
from flagport.results import Result

__all__ = ["eval_command", "providers_command"]

KINDS = ("gate", "experiment", "config")


@click.command("providers")
@click.option("--json", "as_json", is_flag=True, help="Print JSON for scripts.")
def providers_command(as_json: bool) -> None:
    """List the installed providers and where they come from."""
    registry = provider_registry()
    rows = [
        {
            "name": info.name,
            "distribution": info.distribution,
            "version": info.version,
            "plugin": info.plugin,
        }
        for info in registry.values()
    ]
    if as_json:
        print_json(rows)
        return
    table = Table(title="flagport providers")
    for column in ("name", "distribution", "version", "plugin"):
        table.add_column(column)
    for row in rows:
        table.add_row(*(row[c] for c in ("name", "distribution", "version", "plugin")))
    show(table)


def _render(result: Result, kind: str) -> None:
    data = result.to_dict()
    colour = "red" if result.error_code else "green"
    table = Table(title=styled(f"{kind} ", (result.name, "bold")), show_header=False)
    table.add_column("field", style="bold")
    table.add_column("value")
    for key, value in data.items():
        if value is None:
            continue
        table.add_row(
            key, styled((str(value), colour)) if key in {"value", "group"} else styled(str(value))
        )
    show(table)


@click.command("eval")
@click.argument("args", nargs=-1, required=True, metavar="[FILE] gate|experiment|config NAME")
@click.option("--user", "user_json", default="{}", show_default=True, help="The user as JSON.")
@click.option("--provider", help="Provider name (default: settings, or 'local' with FILE).")
@click.option("--option", "option_pairs", multiple=True, help="Provider option key=value (repeat).")
@click.option("--json", "as_json", is_flag=True, help="Print the result as JSON.")
def eval_command(
    args: tuple[str, ...],
    user_json: str,
    provider: str | None,
    option_pairs: tuple[str, ...],
    as_json: bool,
) -> None:
    """Evaluate one flag for one user.

    \b
    flagport eval gate new_checkout --provider passall --user '{"user_id": "42"}'
    flagport eval flags.yaml gate new_checkout --user '{"user_id": "42", "country": "US"}'
    """
    options: dict[str, Any] = parse_options(option_pairs)
    path = ""
    if len(args) == 3:
        path, kind, name = args
        if not _is_file(path):
            raise click.BadParameter(f"{shown(path)} is not a file", param_hint="FILE")
        if provider not in (None, "local"):
            raise click.UsageError(
                f"FILE is a flags file, read by the local provider; with --provider "
                f"{provider} leave it out and give that provider's options (--option KEY=VALUE)"
            )
        provider = "local"
        options.setdefault("path", path)
        # A file with problems: its problems, located, as validate reports them (the
        # provider would only serve the default with the first one in its message).
        if _load(path, str(options.get("hash", "statsig"))) is None:
            raise SystemExit(1)
    elif len(args) == 2:
        kind, name = args
        if kind not in KINDS and (Path(kind).suffix.lower() in FORMATS or _is_file(kind)):
            if name in KINDS:
                raise click.UsageError(
                    f"{kind!r} is the flags file; give the {name}'s name after {name}: "
                    f"flagport eval {kind} {name} NAME"
                )
            raise click.UsageError(
                f"{kind!r} is the flags file; give the kind of flag after it: "
                f"flagport eval {kind} gate|experiment|config {name}"
            )
    else:
        raise click.UsageError("expected [FILE] gate|experiment|config NAME")
    if kind not in KINDS:
        raise click.BadParameter(
            f"{shown(kind)} is not one of {', '.join(KINDS)}", param_hint="KIND"
        )
    user = parse_user(user_json)
    with Flagport(provider, **options) as client:
        if kind == "gate":
            result: Result = client.get_gate(user, name, expose=False)
        elif kind == "experiment":
            result = client.get_experiment(user, name, expose=False)
        else:
            result = client.get_config(user, name, expose=False)
        hint = ""
        if result.error_code == ErrorCode.FLAG_NOT_FOUND:
            hint = name_hint(
                client.names(), kind, name, "flagport eval" + (f" {path}" if path else "")
            )
    if as_json:
        print_json(result.to_dict())
    else:
        _render(result, kind)
    if hint:
        say(("hint:", "bold yellow"), f" no {kind} {name!r}; {hint}", err=True)
    if result.error_code is not None:
        raise SystemExit(1)


def _is_file(text: str) -> bool:
    """Whether ``text`` names a file; a name no file can have (too long) names none."""
    try:
        return Path(text).is_file()
    except (OSError, ValueError):
        return False
