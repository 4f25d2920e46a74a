"""``flagport migrate report|plan``: follow a live migration from its mismatch log."""

from __future__ import annotations

import json
import tomllib
from collections import Counter
from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import click
from rich.table import Table

from flagport._documents import read_document
from flagport._exports import lazy_export
from flagport.cli._evidence import COLOURS, show_evidence
from flagport.cli._output import fail, plural, print_json, say, show, styled, warn, write_output
from flagport.providers.migration.report import LogContents, assess, find_flags, merge_log, read_log

__all__ = ["migrate_group"]


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
    show_evidence(
        title,
        flags,
        with_stage=True,
        notes=lambda data: (
            f"{p['field']}: {p['from']!r} → {p['to']!r} x{p['count']} "
            f"({plural(data['units_with_mismatches'], 'distinct unit')})"
            for p in data["top_mismatches"]
        ),
    )
    if contents.bad_lines:
        warn(f"{plural(contents.bad_lines, 'unreadable line')} skipped")


def _read_log(path: Path, since: str | None) -> LogContents:
    """Read a mismatch log; a file that holds no migration record is refused."""
    start = _since(since)
    try:
        contents = read_log(path, start)
    except FileNotFoundError as exc:
        fail(str(exc))
    except (OSError, UnicodeDecodeError) as exc:
        fail(f"cannot read the mismatch log {path}: {exc}")
    if not (contents.summaries or contents.mismatches or contents.left_out):
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
        # The one document reader: bounded, located, deep nesting a problem not a bug.
        data = read_document(source, what="evidence file", fmt="json").data
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
        write_output(write_control, _control_toml(control))
    if as_json:
        print_json(plan)
        return
    table = Table(title=f"migration plan from {source}")
    for column in ("flag", "stage", "verdict", "ready", "next", "why"):
        table.add_column(column, style="bold" if column == "flag" else None)
    for name, step in plan.items():
        ready = step["ready"]
        table.add_row(
            styled(name),
            step["stage"],
            step["verdict"],
            styled(("yes" if ready else "no", COLOURS[ready])),
            step["next_stage"] if ready else "-",
            styled(step["reason"]),
        )
    show(table)
    if write_control is not None:
        say(f"wrote {write_control}")


def __getattr__(name: str) -> Any:
    # ``parse_spec`` moved with ``flagport compare``; old imports keep working.
    return lazy_export(__name__, name, {"parse_spec": "flagport.cli.compare"})
