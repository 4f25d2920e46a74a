"""``flagport validate``, ``flagport schema`` and ``flagport explain``: flags file tools."""

from __future__ import annotations

import json

import click

from flagport._wording import with_article
from flagport.cli._common import parse_user
from flagport.cli._errors import INTERNAL_ERROR, internal_error
from flagport.cli._output import error, fail, plural, print_json, say, write_output
from flagport.errors import ConfigurationError, FlagNotFoundError
from flagport.provider import FlagNames
from flagport.providers.local.compiled import Snapshot
from flagport.providers.local.explain import explain
from flagport.providers.local.loader import load_file
from flagport.providers.local.models import HASH_MODES, flags_file_schema
from flagport.providers.local.reference import markdown_reference
from flagport.suggest import did_you_mean

__all__ = ["explain_command", "name_hint", "schema_command", "validate_command"]


def _load(path: str, hash_mode: str) -> Snapshot | None:
    try:
        return load_file(path, default_hash=hash_mode)
    except ConfigurationError as exc:
        _report(exc)
        return None


def _report(exc: ConfigurationError) -> None:
    if not exc.problems:
        error(str(exc))
        return
    count = plural(len(exc.problems), "problem")
    say((count, "bold red"), f" in {exc.problems[0][0].source}:", err=True)
    for location, text in exc.problems:
        where = location.source + (f":{location.line}" if location.line else "")
        path = (" ", (location.path, "cyan")) if location.path else ()
        say(f"  {where}", *path, f": {text}", err=True)


_hash_option = click.option(
    "--hash",
    "hash_mode",
    type=click.Choice(HASH_MODES),
    default="statsig",
    show_default=True,
    help="Bucketing algorithm for files that do not name one.",
)


@click.command("validate")
# Any path: a missing file or a folder is reported like any other problem, and the
# other files are still checked.
@click.argument("files", nargs=-1, required=True, type=click.Path())
@_hash_option
@click.option("--json", "as_json", is_flag=True, help="Print problems as JSON.")
def validate_command(files: tuple[str, ...], hash_mode: str, as_json: bool) -> None:
    """Check flags files; report every problem with its file, line and path.

    Exits 1 when any file has a problem, 2 when checking one hit a bug in flagport
    (the other files are still checked).

    \b
    flagport validate flags.yaml
    """
    code = 0
    report: list[dict[str, object]] = []
    for file in files:
        try:
            snapshot = load_file(file, default_hash=hash_mode)
        except ConfigurationError as exc:
            code = max(code, 1)
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
        except Exception as exc:  # a bug; RecursionError and MemoryError included
            code = INTERNAL_ERROR
            message = internal_error(exc, where=file)
            if as_json:
                report.append(
                    {"file": file, "ok": False, "problems": [], "internal_error": message}
                )
            else:
                error(message)
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
            say(
                ("ok", "green"),
                f" {file}: "
                + ", ".join(plural(count, kind[:-1]) for kind, count in counts.items()),
            )
    if as_json:
        print_json(report)
    if code:
        raise SystemExit(code)


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
        write_output(output, text)
        what = "the reference tables of the flags file" if markdown else "the flags-file schema"
        say(f"wrote {what} to {output}", err=True)
    else:
        click.echo(text, nl=False)


_KINDS = ("gate", "experiment", "config")


def name_hint(names: FlagNames, kind: str, name: str, command: str) -> str:
    """What to say when ``name`` is not a ``kind``: the kind it is (with the command
    that evaluates it as that), else the close name of this kind, else nothing."""
    for other in _KINDS:
        if other != kind and name in names.of(other):
            return f"it is {with_article(other)}: {command} {other} {name}"
    return did_you_mean(name, names.of(kind))


@click.command("explain")
@click.argument("file", type=click.Path(dir_okay=False))
@click.argument("kind", type=click.Choice(_KINDS))
@click.argument("name")
@click.option("--user", "user_json", default="{}", show_default=True, help="The user as JSON.")
@_hash_option
@click.option("--json", "as_json", is_flag=True, help="Print the explanation as JSON.")
def explain_command(
    file: str, kind: str, name: str, user_json: str, hash_mode: str, as_json: bool
) -> None:
    """Show how a flag is evaluated for a user: each rule, each sub-condition's
    outcome, the bucket against its threshold, and the final reason.

    \b
    flagport explain flags.yaml gate new_checkout --user '{"country": "US"}'
    """
    user = parse_user(user_json)
    snapshot = _load(file, hash_mode)
    if snapshot is None:
        raise SystemExit(1)
    try:
        story = explain(snapshot, kind, name, user)
    except FlagNotFoundError as exc:
        hint = name_hint(snapshot.names, kind, name, f"flagport explain {file}")
        fail(f"{exc}; {hint}" if hint else str(exc))
    if as_json:
        print_json(story.to_dict())
        return
    say((f"{kind} {name}", "bold"), f" in {story.source}")
    marks = {True: ("✓", "green"), False: ("✗", "red"), None: ("•", "dim")}
    for line in story.lines:
        say("  " * (line.depth + 1), marks[line.ok], f" {line.text}")
    say(("=>", "bold"), f" {story.summary}")
