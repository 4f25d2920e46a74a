"""``flagport validate``, ``flagport schema`` and ``flagport explain``: flags file tools."""

from __future__ import annotations

import json
from pathlib import Path

import click
from rich.markup import escape

from flagport.cli._common import console, err_console, parse_user, print_json
from flagport.errors import ConfigurationError, FlagNotFoundError
from flagport.local.compiled import Snapshot
from flagport.local.explain import explain
from flagport.local.loader import load_file
from flagport.local.models import HASH_MODES, flags_file_schema
from flagport.local.reference import markdown_reference

__all__ = ["COMMANDS"]


def _load(path: str, hash_mode: str) -> Snapshot | None:
    try:
        return load_file(path, default_hash=hash_mode)
    except ConfigurationError as exc:
        _report(exc)
        return None


def _report(exc: ConfigurationError) -> None:
    if not exc.problems:
        err_console.print(
            f"[bold red]error:[/] {escape(str(exc))}", highlight=False, soft_wrap=True
        )
        return
    count = len(exc.problems)
    err_console.print(
        f"[bold red]{count} problem{'s' if count != 1 else ''}[/] in "
        f"{escape(exc.problems[0][0].source)}:",
        highlight=False,
        soft_wrap=True,
    )
    for location, text in exc.problems:
        where = location.source + (f":{location.line}" if location.line else "")
        path = f" [cyan]{escape(location.path)}[/]" if location.path else ""
        err_console.print(
            f"  {escape(where)}{path}: {escape(text)}", highlight=False, soft_wrap=True
        )


_hash_option = click.option(
    "--hash",
    "hash_mode",
    type=click.Choice(HASH_MODES),
    default="statsig",
    show_default=True,
    help="Bucketing algorithm for files that do not name one.",
)


@click.command("validate")
@click.argument("files", nargs=-1, required=True, type=click.Path(dir_okay=False))
@_hash_option
@click.option("--json", "as_json", is_flag=True, help="Print problems as JSON.")
def validate_command(files: tuple[str, ...], hash_mode: str, as_json: bool) -> None:
    """Check flags files; report every problem with its file, line and path.

    Exits 1 when any file has a problem.
    """
    failed = False
    report: list[dict[str, object]] = []
    for file in files:
        try:
            snapshot = load_file(file, default_hash=hash_mode)
        except ConfigurationError as exc:
            failed = True
            if as_json:
                problems = exc.problems or []
                report.append(
                    {
                        "file": file,
                        "ok": False,
                        "problems": [
                            {"path": loc.path, "line": loc.line, "message": text}
                            for loc, text in problems
                        ]
                        or [{"path": "", "line": None, "message": str(exc)}],
                    }
                )
            else:
                _report(exc)
            continue
        counts = {
            k: len(v)
            for k, v in (
                ("gates", snapshot.gates),
                ("experiments", snapshot.experiments),
                ("configs", snapshot.configs),
            )
        }
        if as_json:
            report.append({"file": file, "ok": True, "problems": [], **counts})
        else:
            console.print(
                f"[green]ok[/] {escape(file)}: {counts['gates']} gates, "
                f"{counts['experiments']} experiments, {counts['configs']} configs",
                highlight=False,
                soft_wrap=True,
            )
    if as_json:
        print_json(report)
    if failed:
        raise SystemExit(1)


@click.command("schema")
@click.option(
    "--output", "-o", type=click.Path(dir_okay=False), help="Write to a file instead of stdout."
)
@click.option(
    "--markdown", is_flag=True, help="Print the reference tables of docs/flags-file.md instead."
)
def schema_command(output: str | None, markdown: bool) -> None:
    """Print the JSON Schema of the flags file, for editors and CI checks."""
    schema = json.dumps(flags_file_schema(), indent=2) + "\n"
    text = markdown_reference() if markdown else schema
    if output:
        Path(output).write_text(text, encoding="utf-8")
    else:
        click.echo(text, nl=False)


@click.command("explain")
@click.argument("file", type=click.Path(dir_okay=False))
@click.argument("kind", type=click.Choice(["gate", "experiment", "config"]))
@click.argument("name")
@click.option("--user", "user_json", default="{}", show_default=True, help="The user as JSON.")
@_hash_option
@click.option("--json", "as_json", is_flag=True, help="Print the explanation as JSON.")
def explain_command(
    file: str, kind: str, name: str, user_json: str, hash_mode: str, as_json: bool
) -> None:
    """Show how a flag is evaluated for a user: each rule, each sub-condition's
    outcome, the bucket against its threshold, and the final reason."""
    user = parse_user(user_json)
    snapshot = _load(file, hash_mode)
    if snapshot is None:
        raise SystemExit(1)
    try:
        story = explain(snapshot, kind, name, user)
    except FlagNotFoundError as exc:
        err_console.print(
            f"[bold red]error:[/] {escape(str(exc))}", highlight=False, soft_wrap=True
        )
        raise SystemExit(1) from None
    if as_json:
        print_json(story.to_dict())
        return
    console.print(
        f"[bold]{kind} {escape(name)}[/] in {escape(story.source)}", highlight=False, soft_wrap=True
    )
    marks = {True: "[green]✓[/]", False: "[red]✗[/]", None: "[dim]•[/]"}
    for line in story.lines:
        indent = "  " * (line.depth + 1)
        console.print(
            f"{indent}{marks[line.ok]} {escape(line.text)}", highlight=False, soft_wrap=True
        )
    console.print(f"[bold]=>[/] {escape(story.summary)}", highlight=False, soft_wrap=True)


COMMANDS = [validate_command, schema_command, explain_command]
