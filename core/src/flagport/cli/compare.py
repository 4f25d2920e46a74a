"""``flagport compare``: evaluate every flag for every user through two providers."""

from __future__ import annotations

import csv
import io
import json
import sys
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import click
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

from flagport.cli._common import parse_options
from flagport.cli._evidence import agreement_rate, p_value, show_evidence
from flagport.cli._output import fail, plural, print_json, stderr_console
from flagport.errors import FlagportError
from flagport.provider import Provider
from flagport.providers.migration.control import read_structured
from flagport.providers.migration.offline import compare_offline
from flagport.providers.migration.options import build_side
from flagport.providers.migration.report import assess
from flagport.user import User, as_user

__all__ = ["compare_command", "parse_spec"]

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
        with path.open(encoding="utf-8-sig") as fh:  # -sig: a byte-order mark is skipped
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
    with path.open(encoding="utf-8-sig") as fh:
        for number, line in enumerate(fh, 1):
            if not line.strip():
                continue
            try:
                user = as_user(json.loads(line))
            except RecursionError:
                fail(f"{path}:{number}: not a user (JSON nested too deeply to read)")
            except (ValueError, FlagportError) as exc:
                fail(f"{path}:{number}: not a user ({exc}); one JSON object per line")
            yield user


def _group_map(path: Path | None) -> Any:
    if path is None:
        return None
    try:
        return read_structured(path)
    except (OSError, ValueError) as exc:
        fail(f"cannot read the group map {path}: {exc}")


def _csv(flags: Mapping[str, dict[str, Any]]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(_CSV_COLUMNS)
    for name, data in flags.items():
        agreement = agreement_rate(data)
        p = p_value(data)
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
        show_evidence(
            title,
            flags,
            with_stage=False,
            notes=lambda data: (
                f"user {e['user_id']}: {e['field']} {e['from']!r} → {e['to']!r}"
                for e in data["examples"]
            ),
        )
    if fail_on_mismatch:
        if not flags:
            fail(
                f"neither {old.name!r} nor {new.name!r} served a flag to the users in "
                f"{users_path}, so nothing was compared; check both providers' definitions"
            )
        if not all(d["assessment"]["ready"] for d in flags.values()):
            sys.exit(1)
