"""``flagport compare`` and ``flagport migrate report|plan``: evidence for a vendor move."""

from __future__ import annotations

import csv
import io
import json
import sys
import tomllib
from collections import Counter
from collections.abc import Iterator, Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import click
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn
from rich.table import Table

from flagport.cli._common import parse_options
from flagport.cli._output import fail, plural, print_json, say, show, stderr_console, styled, warn
from flagport.errors import FlagportError
from flagport.provider import Provider
from flagport.providers.migration.control import read_structured
from flagport.providers.migration.offline import compare_offline
from flagport.providers.migration.provider import build_side
from flagport.providers.migration.report import LogContents, assess, find_flags, merge_log, read_log
from flagport.user import User, as_user

__all__ = ["compare_command", "migrate_group", "parse_spec"]

_COLOURS = {True: "green", False: "red"}
_CSV_COLUMNS = (
    "flag",
    "kind",
    "compared",
    "mismatches",
    "agreement",
    "errors_from",
    "errors_to",
    "chi_square_p",
    "verdict",
)


def parse_spec(spec: str, extra: tuple[str, ...] = ()) -> dict[str, Any]:
    """Turn a provider spec into ``{"provider": NAME, ...options}``.

    ``NAME``, ``NAME:key=value,key=value`` (values are JSON when they parse as JSON),
    or ``@file.toml`` / ``.json`` / ``.yaml`` holding a table with ``provider`` and
    options. ``extra`` are more ``key=value`` pairs (for values containing commas).
    """
    if spec.startswith("@"):
        path = Path(spec[1:])
        try:
            data = read_structured(path)
        except (OSError, ValueError) as exc:
            raise click.BadParameter(f"cannot read {path}: {exc}") from None
        if not isinstance(data, dict) or not isinstance(data.get("provider"), str):
            raise click.BadParameter(
                f"{path} must hold a table with a 'provider' key and that provider's options"
            )
        options = dict(data)
    else:
        name, _, rest = spec.partition(":")
        if not name:
            raise click.BadParameter(f"{spec!r} names no provider; e.g. local:path=flags.yaml")
        options = {"provider": name, **parse_options(p for p in rest.split(",") if p)}
    options.update(parse_options(extra))
    return options


def _start(side: str, spec: Mapping[str, Any]) -> Provider:
    try:
        provider = build_side(side, spec)
        provider.start()
    except FlagportError as exc:
        fail(str(exc))
    except Exception as exc:
        fail(f"the {side!r} provider {spec['provider']!r} failed to start: {exc}")
    return provider


def _count_users(path: Path) -> int:
    """The users in ``path`` (a first pass, for the progress bar); none is an error."""
    try:
        with path.open(encoding="utf-8") as fh:
            total = sum(1 for line in fh if line.strip())
    except (OSError, UnicodeDecodeError) as exc:
        fail(f"cannot read the users file {path}: {exc}")
    if not total:
        fail(
            f"the users file {path} holds no users, so nothing can be compared; "
            f'write one JSON object per line, e.g. {{"user_id": "42", "country": "US"}}'
        )
    return total


def _users(path: Path) -> Iterator[User]:
    with path.open(encoding="utf-8") as fh:
        for number, line in enumerate(fh, 1):
            if not line.strip():
                continue
            try:
                yield as_user(json.loads(line))
            except (ValueError, FlagportError) as exc:
                fail(f"{path}:{number}: not a user ({exc}); one JSON object per line")


def _group_map(path: Path | None) -> Any:
    if path is None:
        return None
    try:
        return read_structured(path)
    except (OSError, ValueError) as exc:
        fail(f"cannot read the group map {path}: {exc}")


def _agreement(data: Mapping[str, Any]) -> float | None:
    compared = int(data.get("compared", 0))
    return 1.0 - int(data.get("mismatches", 0)) / compared if compared else None


def _p_value(data: Mapping[str, Any]) -> float | None:
    split = data.get("split")
    return float(split["chi_square"]["p_value"]) if split else None


def _chance(data: Mapping[str, Any]) -> float | None:
    split = data.get("split")
    return float(split["chance_agreement"]) if split else None


def _table(title: str, flags: Mapping[str, dict[str, Any]], *, with_stage: bool) -> Table:
    table = Table(title=title)
    table.add_column("flag", style="bold")
    table.add_column("kind")
    if with_stage:
        table.add_column("stage")
    for column in ("compared", "agree", "by chance", "split p", "errors"):
        table.add_column(column, justify="right")
    table.add_column("verdict")
    for name, data in flags.items():
        agreement, chance, p = _agreement(data), _chance(data), _p_value(data)
        verdict = data["assessment"]["verdict"]
        good = verdict in ("agree", "done", "new flag") or verdict.startswith("expected")
        row = [name, data.get("kind", "")]
        if with_stage:
            stage = data["assessment"]["stage"]
            row.append(stage + (f" {data['ramp']:g}%" if "ramp" in data else ""))
        row += [
            str(data.get("compared", 0)),
            "-" if agreement is None else f"{agreement:.2%}",
            "-" if chance is None or not data.get("compared") else f"{chance:.2%}",
            "-" if p is None or not data.get("compared") else f"{p:.3g}",
            f"{data['errors']['from']}/{data['errors']['to']}",
        ]
        table.add_row(*row, styled((verdict, _COLOURS[good])))
    return table


def _csv(flags: Mapping[str, dict[str, Any]]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(_CSV_COLUMNS)
    for name, data in flags.items():
        agreement = _agreement(data)
        p = _p_value(data)
        writer.writerow(
            [
                name,
                data.get("kind", ""),
                data.get("compared", 0),
                data.get("mismatches", 0),
                "" if agreement is None else f"{agreement:.6f}",
                data["errors"]["from"],
                data["errors"]["to"],
                "" if p is None else f"{p:.6g}",
                data["assessment"]["verdict"],
            ]
        )
    return out.getvalue()


@click.command("compare")
@click.option("--from", "from_spec", required=True, metavar="SPEC", help="The old provider.")
@click.option("--to", "to_spec", required=True, metavar="SPEC", help="The new provider.")
@click.option("--from-option", multiple=True, metavar="KEY=VALUE", help="More 'from' options.")
@click.option("--to-option", multiple=True, metavar="KEY=VALUE", help="More 'to' options.")
@click.option(
    "--users",
    "users_path",
    required=True,
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="JSON lines, one user per line.",
)
@click.option(
    "--group-map",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="JSON/TOML/YAML: {experiment: {old_group: new_group}}.",
)
@click.option(
    "--threshold",
    default=1.0,
    show_default=True,
    help="Agreement that counts (offline answers are deterministic: any difference is real).",
)
@click.option("--min-sample", default=30, show_default=True, help="Users needed for a verdict.")
@click.option("--examples", default=3, show_default=True, help="Mismatch examples per flag.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.option("--csv", "as_csv", is_flag=True, help="Print CSV.")
@click.option("--progress/--no-progress", default=None, help="Progress bar (default: on a tty).")
@click.option("--fail-on-mismatch", is_flag=True, help="Exit 1 unless every flag agrees.")
def compare_command(
    from_spec: str,
    to_spec: str,
    from_option: tuple[str, ...],
    to_option: tuple[str, ...],
    users_path: Path,
    group_map: Path | None,
    threshold: float,
    min_sample: int,
    examples: int,
    as_json: bool,
    as_csv: bool,
    progress: bool | None,
    fail_on_mismatch: bool,
) -> None:
    """Evaluate every flag for every user through two providers and compare.

    A SPEC is NAME, NAME:key=value,key=value or @file.toml (a table with 'provider').

    Two vendors offline, from their downloaded definitions, over a sample of users:

    \b
    flagport compare --from statsig:offline=true,bootstrap=statsig_specs.json \\
                     --to growthbook:offline=true,bootstrap=growthbook_features.json \\
                     --users users.jsonl
    """
    total = _count_users(users_path)
    mapping = _group_map(group_map)
    old = _start("from", parse_spec(from_spec, from_option))
    new = _start("to", parse_spec(to_spec, to_option))
    err_console = stderr_console()
    bar = Progress(
        TextColumn("comparing"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeRemainingColumn(),
        console=err_console,
        transient=True,
        disable=not (err_console.is_terminal if progress is None else progress),
    )
    try:
        with bar:
            task = bar.add_task("users", total=total)
            outcome = compare_offline(
                old,
                new,
                _users(users_path),
                group_map=mapping,
                examples=examples,
                progress=lambda: bar.advance(task),
            )
    finally:
        old.shutdown(2.0)
        new.shutdown(2.0)
    flags = outcome.evidence.to_dict(min_sample=min_sample, agreement=threshold)
    for name, data in flags.items():
        data["assessment"] = assess(
            data, threshold=threshold, min_sample=min_sample, stage="offline"
        ).to_dict()
        data["examples"] = outcome.examples.get(name, [])
    report = {"from": old.name, "to": new.name, "users": outcome.users, "flags": flags}
    if as_json:
        print_json(report)
    elif as_csv:
        click.echo(_csv(flags), nl=False)
    else:
        title = (
            f"{old.name} → {new.name}: {plural(outcome.users, 'user')}, "
            f"{plural(len(flags), 'flag')}"
        )
        show(_table(title, flags, with_stage=False))
        for name, data in flags.items():
            for example in data["examples"]:
                say(
                    "  ",
                    (name, "yellow"),
                    f" user {example['user_id']}: {example['field']} "
                    f"{example['from']!r} → {example['to']!r}",
                )
    if fail_on_mismatch:
        if not flags:
            fail(
                f"neither {old.name!r} nor {new.name!r} served a flag to the users in "
                f"{users_path}, so nothing was compared; check both providers' definitions"
            )
        if not all(d["assessment"]["ready"] for d in flags.values()):
            sys.exit(1)


@click.group("migrate")
def migrate_group() -> None:
    """Follow a live migration: summarise its log, plan the next stages."""


def _when(ts: float | None) -> str:
    if ts is None:
        return "-"
    return datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def _since(value: str | None) -> float | None:
    if value is None:
        return None
    try:
        return float(value)
    except ValueError:
        pass
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise click.BadParameter(
            f"{value!r} is neither Unix time nor ISO 8601 (e.g. 2026-11-22T02:00:00Z)",
            param_hint="--since",
        ) from None
    return (parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)).timestamp()


_SINCE_HELP = "Only runs started at or after this time (ISO 8601, UTC if no zone, or Unix)."


@migrate_group.command("report")
@click.argument("log", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--since", help=_SINCE_HELP)
@click.option("--top", default=3, show_default=True, help="Mismatch patterns shown per flag.")
@click.option("--threshold", default=0.999, show_default=True)
@click.option("--min-sample", default=1000, show_default=True)
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def report_command(
    log: Path, since: str | None, top: int, threshold: float, min_sample: int, as_json: bool
) -> None:
    """Summarise a migration's mismatch log (and its rotated copy)."""
    contents = _read_log(log, since)
    flags = merge_log(contents)
    patterns: dict[str, Counter[tuple[str, str, str]]] = {}
    units: dict[str, set[str]] = {}
    for record in contents.mismatches:
        flag = str(record.get("flag"))
        key = (
            str(record.get("field")),
            json.dumps(record.get("from"), sort_keys=True),
            json.dumps(record.get("to"), sort_keys=True),
        )
        patterns.setdefault(flag, Counter())[key] += 1
        units.setdefault(flag, set()).add(str(record.get("unit")))
        if flag not in flags:
            flags[flag] = {
                "kind": record.get("kind", "gate"),
                "compared": 0,
                "mismatches": 0,
                "errors": {"from": 0, "to": 0},
                "stage": record.get("stage", "shadow"),
            }
    for name, data in sorted(flags.items()):
        data["assessment"] = assess(data, threshold=threshold, min_sample=min_sample).to_dict()
        data["units_with_mismatches"] = len(units.get(name, ()))
        data["top_mismatches"] = [
            {"field": f, "from": json.loads(a), "to": json.loads(b), "count": n}
            for (f, a, b), n in patterns.get(name, Counter()).most_common(top)
        ]
    flags = dict(sorted(flags.items()))
    report = {
        "log": str(log),
        "runs": len(contents.summaries),
        "mismatch_lines": len(contents.mismatches),
        "bad_lines": contents.bad_lines,
        "first": _when(contents.first),
        "last": _when(contents.last),
        "flags": flags,
    }
    if as_json:
        print_json(report)
        return
    title = (
        f"{log}: {plural(len(contents.summaries), 'run')}, "
        f"{plural(len(contents.mismatches), 'mismatch line')}, "
        f"{report['first']} → {report['last']}"
    )
    show(_table(title, flags, with_stage=True))
    for name, data in flags.items():
        for pattern in data["top_mismatches"]:
            say(
                "  ",
                (name, "yellow"),
                f" {pattern['field']}: {pattern['from']!r} → {pattern['to']!r} "
                f"x{pattern['count']} "
                f"({plural(data['units_with_mismatches'], 'distinct unit')})",
            )
    if contents.bad_lines:
        warn(f"{plural(contents.bad_lines, 'unreadable line')} skipped")


def _read_log(path: Path, since: str | None) -> LogContents:
    """Read a mismatch log; a file that holds no migration record is refused."""
    start = _since(since)
    try:
        contents = read_log(path, start)
        every_run = contents if start is None else read_log(path)
    except FileNotFoundError as exc:
        fail(str(exc))
    except (OSError, UnicodeDecodeError) as exc:
        fail(f"cannot read the mismatch log {path}: {exc}")
    if not (every_run.summaries or every_run.mismatches):
        fail(
            f"{path} is not a mismatch log: no line is a flagport migration record "
            f"({plural(contents.bad_lines, 'other line')}). Expected the JSON lines the "
            f"migration provider writes to its mismatch_log file (records of type "
            f"'summary' and 'mismatch')"
        )
    if not (contents.summaries or contents.mismatches):
        fail(f"the mismatch log {path} holds no run started at or after {since}")
    return contents


def _load_flags(source: Path, since: str | None) -> dict[str, dict[str, Any]]:
    if source.suffix == ".json":
        try:
            data = json.loads(source.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            fail(f"cannot read {source}: {exc}")
        found = find_flags(data)
        if found is None:
            fail(f"{source} holds no per-flag evidence (expected fp.stats() or compare --json)")
        return found
    return merge_log(_read_log(source, since))


def _control_toml(control: Mapping[str, Any]) -> str:
    lines = []
    for key in ("stage", "sample_rate"):
        if key in control:
            lines.append(f"{key} = {json.dumps(control[key])}")
    for table in ("stages", "ramp"):
        if control.get(table):
            lines.append(f"\n[{table}]")
            lines += [
                f"{json.dumps(k)} = {json.dumps(v)}" for k, v in sorted(control[table].items())
            ]
    return "\n".join(lines).lstrip("\n") + "\n"


@migrate_group.command("plan")
@click.argument("source", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--since", help=_SINCE_HELP)
@click.option("--threshold", default=0.999, show_default=True, help="Agreement needed.")
@click.option("--min-sample", default=1000, show_default=True, help="Comparisons needed.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.option(
    "--write-control",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Move ready flags to their next stage in this control file (TOML).",
)
def plan_command(
    source: Path,
    since: str | None,
    threshold: float,
    min_sample: int,
    as_json: bool,
    write_control: Path | None,
) -> None:
    """Per flag: ready to move? and the next stage.

    SOURCE is a mismatch log, a JSON dump of fp.stats(), or `flagport compare --json`.
    """
    flags = _load_flags(source, since)
    plan = {
        name: assess(data, threshold=threshold, min_sample=min_sample).to_dict()
        for name, data in sorted(flags.items())
    }
    if write_control is not None:
        control: dict[str, Any] = {}
        if write_control.is_file():
            try:
                control = tomllib.loads(write_control.read_text(encoding="utf-8"))
            except (OSError, ValueError) as exc:
                fail(f"cannot update the control file {write_control}: {exc}")
        stages = dict(control.get("stages", {}))
        for name, step in plan.items():
            if step["ready"] and step["next_stage"] != "done":
                stages[flags[name].get("name", name)] = step["next_stage"]
        control["stages"] = stages
        write_control.write_text(_control_toml(control), encoding="utf-8")
    if as_json:
        print_json(plan)
        return
    table = Table(title=f"migration plan from {source}")
    for column in ("flag", "stage", "verdict", "ready", "next", "why"):
        table.add_column(column, style="bold" if column == "flag" else None)
    for name, step in plan.items():
        ready = step["ready"]
        table.add_row(
            name,
            step["stage"],
            step["verdict"],
            styled(("yes" if ready else "no", _COLOURS[ready])),
            step["next_stage"] if ready else "-",
            step["reason"],
        )
    show(table)
    if write_control is not None:
        say(f"wrote {write_control}")
