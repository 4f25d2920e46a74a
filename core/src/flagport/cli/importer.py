"""``flagport import``: a vendor's definitions as a flags file, with the proof that they agree.

The translation is :func:`flagport.importers.run.import_payload`; the proof runs the
vendor's provider offline on the same payload and the local provider on the written
file through :func:`~flagport.providers.migration.offline.compare_offline`, the engine
of ``flagport compare``, and shows its table.
"""

from __future__ import annotations

import dataclasses
import json
import random
import sys
import tempfile
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import click

from flagport.cli._output import (
    fail,
    plural,
    print_json,
    say,
    show,
    stderr_console,
    warn,
    write_output,
)
from flagport.importers import Imported
from flagport.importers.run import VENDORS, PayloadError, dump, import_payload, parse_payload
from flagport.providers.local.conditions.statsig_bucket import STATSIG_UNIT
from flagport.providers.local.featbit_view import FEATBIT_UNIT
from flagport.providers.local.growthbook_view import GROWTHBOOK_UNIT
from flagport.results import freeze
from flagport.user import User

__all__ = ["import_command", "random_users"]

#: Values every generated attribute tries, besides those the conditions name.
EDGE_VALUES: tuple[Any, ...] = ("", 0, -1, 1.5, True, False, "ünï-😀", "0", " ", 10**6)


def _read(source: str) -> tuple[bytes, str]:
    if source == "-":
        return sys.stdin.buffer.read(), "<stdin>"
    try:
        return Path(source).read_bytes(), source
    except OSError as exc:
        fail(f"cannot read {source}: {exc.strerror or exc}")


def _download(
    vendor: str, pairs: tuple[str, ...], decryption_key: str | None
) -> tuple[bytes, str, str | None]:
    """The payload from the vendor's server, where it came from, and the decryption key."""
    from flagport.cli._common import parse_options
    from flagport.errors import FlagportError
    from flagport.importers.live import LiveError, fetch_live, live_options

    try:
        fetched = fetch_live(vendor, live_options(vendor, parse_options(pairs)))
    except (LiveError, FlagportError) as exc:
        fail(str(exc))
    return (
        fetched.payload,
        f"{vendor} at {fetched.origin}",
        decryption_key or fetched.decryption_key,
    )


def _condition_fields(node: Any, found: dict[str, set[Any]]) -> None:
    """Attribute names in ``condition`` objects, with the literal values they are compared to."""
    if isinstance(node, Mapping):
        for key, value in node.items():
            if key in ("condition", "when") and isinstance(value, Mapping):
                _fields(value, found)
            _condition_fields(value, found)
    elif isinstance(node, list):
        for item in node:
            _condition_fields(item, found)


def _fields(condition: Mapping[str, Any], found: dict[str, set[Any]]) -> None:
    for key, value in condition.items():
        if key.startswith("$"):
            for part in value if isinstance(value, list) else [value]:
                if isinstance(part, Mapping):
                    _fields(part, found)
            continue
        values = found.setdefault(key, set())
        for literal in _literals(value):
            values.add(literal)


def _literals(value: Any) -> Iterator[Any]:
    if isinstance(value, Mapping):
        for inner in value.values():
            yield from _literals(inner)
    elif isinstance(value, list):
        for inner in value:
            yield from _literals(inner)
    elif isinstance(value, str | int | float | bool):
        yield value


def random_users(flags: Mapping[str, Any], count: int, seed: int = 0) -> list[User]:
    """``count`` users over the attributes the file's conditions use, with edge values.

    Each attribute is missing, one of the values a condition compares it to, or an edge
    value (empty, zero, negative, a boolean, non-ASCII); the same seed gives the same users.
    """
    found: dict[str, set[Any]] = {}
    _condition_fields(flags, found)
    units: set[str] = set()
    for section in ("gates", "experiments", "configs"):
        for flag in (flags.get(section) or {}).values():
            if isinstance(flag, Mapping):
                units.add(_unit_name(str(flag.get("unit", "user_id"))))
                for rule in flag.get("rules") or ():
                    if isinstance(rule, Mapping) and rule.get("unit"):
                        units.add(_unit_name(str(rule["unit"])))
    rng = random.Random(seed)
    choices = {name: sorted(values, key=repr) for name, values in sorted(found.items())}
    users = []
    for i in range(count):
        custom: dict[str, Any] = {}
        for name, seen in choices.items():
            if name.startswith("$") or "." in name or name in _ID_ATTRIBUTES:
                continue
            roll = rng.random()
            if roll < 0.2:
                continue
            pool = seen if seen and roll < 0.7 else list(EDGE_VALUES)
            custom[name] = rng.choice(pool)
        custom_ids = {u: f"{u}-{rng.randrange(10**6)}" for u in sorted(units - _ID_ATTRIBUTES)}
        user_id = f"user-{i}" if i % 10 else rng.choice(["0", "ünï-😀", f"user-{i}"])
        # A vendor's own id attribute (GrowthBook's ``id``) carries the user's id, is
        # left to the provider to fill from the user id, or differs from it (a custom
        # attribute, or a custom id of that name), so every precedence is exercised.
        for name in sorted(units & _ID_ATTRIBUTES - {"user_id"}):
            roll = rng.random()
            if roll < 0.5:
                custom[name] = user_id
            elif roll < 0.7:
                custom[name] = f"{name}-{rng.randrange(10**6)}"
            elif roll < 0.85:
                custom_ids[name] = f"{name}-{rng.randrange(10**6)}"
        users.append(User(user_id=user_id, custom=custom, custom_ids=custom_ids))
    return users


#: Attributes that carry the user's id in the vendors' SDKs (the user id, not a custom field).
def _unit_name(unit: str) -> str:
    """A rule's unit as the attribute it names (a vendor view's prefix removed)."""
    return unit.removeprefix(GROWTHBOOK_UNIT).removeprefix(FEATBIT_UNIT).removeprefix(STATSIG_UNIT)


_ID_ATTRIBUTES = frozenset({"id", "userID", "user_id", "key", "keyId"})


class _VendorShaped:
    """The local provider, answering experiments in the shape the vendor providers use.

    The vendor providers serve an experiment's scalar value as ``{"value": v}`` (a
    flagport experiment value is a mapping); the flags file serves the scalar itself.
    A null value stays null for GrowthBook (its provider leaves the caller's default to
    the client) and is wrapped for FeatBit (a ``json`` variation of ``null``).
    Everything else is the local provider's own answer.
    """

    #: Reshaped answers kept (by the local answer's identity) at most.
    MAX_KEPT = 1 << 16

    def __init__(self, provider: Any, *, wrap_null: bool) -> None:
        self._provider = provider
        self._wrap_null = wrap_null
        # The local provider answers with prebuilt results, one per group and rule, so
        # each is reshaped once rather than copied on every evaluation. The key's object
        # is held in the value, so its id cannot be reused while it is kept.
        self._shaped: dict[int, tuple[Any, Any]] = {}

    def __getattr__(self, name: str) -> Any:
        return getattr(self._provider, name)

    def evaluate_experiment(self, user: User, name: str, *, expose: bool = True) -> Any:
        result = self._provider.evaluate_experiment(user, name, expose=expose)
        kept = self._shaped.get(id(result))
        if kept is not None and kept[0] is result:
            return kept[1]
        shaped = result
        if not isinstance(result.value, Mapping) and not (
            result.value is None and (result.group is None or not self._wrap_null)
        ):
            shaped = dataclasses.replace(result, value=freeze({"value": result.value}))
        if len(self._shaped) < self.MAX_KEPT:
            self._shaped[id(result)] = (result, shaped)
        return shaped


def _group_map(vendor: str, payload: bytes) -> dict[str, dict[str, str]] | None:
    """FeatBit's provider names a group by its variation's name; the file by its id."""
    if vendor != "featbit":
        return None
    data = json.loads(payload)
    body = data.get("data", data)
    mapping: dict[str, dict[str, str]] = {}
    for flag in body.get("featureFlags") or ():
        if isinstance(flag, Mapping) and "key" in flag:
            mapping[str(flag["key"])] = {
                str(v.get("name") or v.get("id")): str(v.get("id"))
                for v in flag.get("variations") or ()
                if isinstance(v, Mapping)
            }
    return mapping


def _read_users(path: Path) -> list[User]:
    # flagport compare's reader: the same file format, the same located errors.
    from flagport.cli.compare import _count_users, _users

    _count_users(path)
    return list(_users(path))


def _report_left_out(imported: Imported) -> None:
    for item in imported.left_out:
        where = f" ({item.where})" if item.where else ""
        say("  ", (item.flag, "yellow"), where, f": {item.reason}", err=True)


def _header(vendor: str, label: str, imported: Imported) -> str:
    lines = [
        f"Imported by `flagport import {vendor}` from {VENDORS[vendor]}.",
        f"Source: {label}.",
    ]
    if imported.left_out:
        lines.append("LEFT OUT (not imported; imported with --partial):")
        lines += [
            f"  {i.flag}{f' ({i.where})' if i.where else ''}: {i.reason}" for i in imported.left_out
        ]
    return "\n".join(lines)


def _verify(
    vendor: str,
    payload: bytes,
    output: Path,
    users: list[User],
    *,
    decryption_key: str | None,
    as_json: bool,
    examples: int,
) -> bool:
    """Evaluate every imported flag for every user through both sides; show the table."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

    from flagport.cli._evidence import evidence_table
    from flagport.cli.compare import _start
    from flagport.provider import FlagNames
    from flagport.providers.migration.offline import compare_offline
    from flagport.providers.migration.report import assess

    with tempfile.TemporaryDirectory(prefix="flagport-import-") as tmp:
        bootstrap = Path(tmp) / "payload.json"
        bootstrap.write_bytes(payload)
        spec: dict[str, Any] = {"provider": vendor, "offline": True, "bootstrap": str(bootstrap)}
        if decryption_key:
            spec["decryption_key"] = decryption_key
        old = _start("from", spec)
        local = _start("to", {"provider": "local", "path": str(output), "watch": False})
        new: Any = _VendorShaped(local, wrap_null=vendor != "growthbook")
        known = old.names()
        if not (known.gates or known.experiments or known.configs):
            old.shutdown(2.0)
            local.shutdown(2.0)
            fail(
                f"{vendor}'s SDK loaded no definitions from the payload (see its log above), "
                "so nothing can be verified; check that the payload is complete"
            )
        # A flag the vendor's SDK does not offer to applications (Statsig's segments and
        # holdouts) is checked through the flags that use it, not on its own.
        offered = known.gates | known.experiments | known.configs
        written = new.names()
        names = FlagNames(
            written.gates & offered, written.experiments & offered, written.configs & offered
        )
        unoffered = sorted((written.gates | written.experiments | written.configs) - offered)
        console = stderr_console()
        bar = Progress(
            TextColumn("verifying"),
            BarColumn(),
            MofNCompleteColumn(),
            console=console,
            transient=True,
            disable=not console.is_terminal,
        )
        try:
            with bar:
                task = bar.add_task("users", total=len(users))
                outcome = compare_offline(
                    old,
                    new,
                    users,
                    names=names,
                    group_map=_group_map(vendor, payload),
                    examples=examples,
                    progress=lambda: bar.advance(task),
                )
        finally:
            old.shutdown(2.0)
            local.shutdown(2.0)
    flags = outcome.evidence.to_dict(min_sample=1, agreement=1.0)
    for name, data in flags.items():
        data["assessment"] = assess(data, threshold=1.0, min_sample=1, stage="offline").to_dict()
        data["examples"] = outcome.examples.get(name, [])
    agree = all(
        not d.get("mismatches") and not d["errors"]["from"] and not d["errors"]["to"]
        for d in flags.values()
    )
    if as_json:
        print_json(
            {
                "vendor": vendor,
                "users": outcome.users,
                "agree": agree,
                "flags": flags,
                "not_compared": unoffered,
            }
        )
        return agree
    title = f"{vendor} SDK → local {output.name}: {plural(outcome.users, 'user')}"
    show(evidence_table(title, flags, with_stage=False))
    if unoffered:
        say(
            f"not compared on their own ({vendor}'s SDK does not offer them; the flags "
            f"that use them are compared): {', '.join(unoffered)}"
        )
    for name, data in flags.items():
        for example in data["examples"]:
            say(
                "  ",
                (name, "yellow"),
                f" user {example['user_id']!r}: {example['field']} "
                f"{vendor} {example['from']!r} ≠ local {example['to']!r}",
            )
    return agree


@click.command("import")
@click.argument("vendor", type=click.Choice(sorted(VENDORS)))
@click.argument("source", metavar="[SOURCE]", required=False)
@click.option(
    "--live",
    is_flag=True,
    help="Download the payload with the vendor provider's options (settings, environment, "
    "--option) instead of reading SOURCE.",
)
@click.option(
    "--option",
    "option_pairs",
    multiple=True,
    metavar="KEY=VALUE",
    help="--live: a provider option, over settings and environment (repeat).",
)
@click.option(
    "--output",
    "-o",
    required=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help="The flags file to write; .yaml/.yml, .json or .toml picks the format.",
)
@click.option(
    "--partial",
    is_flag=True,
    help="Write what translates and mark each flag with parts left out (default: write nothing).",
)
@click.option(
    "--decryption-key",
    envvar="FLAGPORT_GROWTHBOOK_DECRYPTION_KEY",
    help="GrowthBook: the key of an encrypted payload (also FLAGPORT_GROWTHBOOK_DECRYPTION_KEY).",
)
@click.option(
    "--verify",
    "verify_path",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="JSON lines of users: compare the vendor's SDK with the written file for each.",
)
@click.option(
    "--verify-random",
    type=click.IntRange(min=1),
    help="Compare over N users generated from the attributes the definitions use.",
)
@click.option("--seed", default=0, show_default=True, help="Seed of --verify-random's users.")
@click.option("--examples", default=3, show_default=True, help="Disagreements shown per flag.")
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
def import_command(
    vendor: str,
    source: str | None,
    live: bool,
    option_pairs: tuple[str, ...],
    output: Path,
    partial: bool,
    decryption_key: str | None,
    verify_path: Path | None,
    verify_random: int | None,
    seed: int,
    examples: int,
    as_json: bool,
) -> None:
    """Translate a vendor's definitions into a flags file, and prove every user agrees.

    SOURCE is the vendor's payload file (Statsig's config-specs download, GrowthBook's
    SDK features payload, FeatBit's data-sync message) or - for standard input; --live
    downloads it with the options the vendor's provider takes.

    \b
    flagport import growthbook growthbook_features.json --output imported.yaml --verify-random 200
    """
    if live == (source is not None):
        raise click.UsageError("give SOURCE (a payload file, or - for standard input) or --live")
    if option_pairs and not live:
        raise click.UsageError("--option goes with --live (the provider's options)")
    if live:
        payload, where, decryption_key = _download(vendor, option_pairs, decryption_key)
        label = f"downloaded from {where} (--live)"
    else:
        payload, where = _read(source or "-")
        label = "standard input" if where == "<stdin>" else Path(where).name
    try:
        parse_payload(vendor, payload, where)
        imported = import_payload(vendor, payload, decryption_key=decryption_key, source=where)
        text = dump(imported.flags, output, header=_header(vendor, label, imported))
    except PayloadError as exc:
        fail(str(exc))
    report: dict[str, Any] = {
        "vendor": vendor,
        "source": where,
        "output": str(output),
        "imported": {
            s: sorted(imported.flags.get(s) or {}) for s in ("gates", "experiments", "configs")
        },
        "left_out": [
            {"flag": i.flag, "where": i.where, "reason": i.reason} for i in imported.left_out
        ],
        "written": False,
    }
    if imported.left_out and not partial:
        if as_json:
            print_json(report)
        say(
            ("error:", "bold red"),
            f" {plural(len(imported.left_out), 'part')} of the definitions cannot be "
            f"imported; nothing was written (--partial writes the rest):",
            err=True,
        )
        _report_left_out(imported)
        sys.exit(1)
    # Users are read first: a bad users file must not leave a written file behind.
    users = _read_users(verify_path) if verify_path else []
    if verify_random:
        users += random_users(imported.flags, verify_random, seed)
    write_output(output, text)
    report["written"] = True
    total = sum(len(v) for v in report["imported"].values())
    if imported.left_out:
        warn(f"{plural(len(imported.left_out), 'part')} left out (marked in {output}):")
        _report_left_out(imported)
    if not as_json or (verify_path is None and verify_random is None):
        if as_json:
            print_json(report)
        else:
            say(("imported", "green"), f" {plural(total, 'flag')} from {vendor} into {output}")
    if verify_path is None and verify_random is None:
        return
    if not _verify(
        vendor,
        payload,
        output,
        users,
        decryption_key=decryption_key,
        as_json=as_json,
        examples=examples,
    ):
        say(("error:", "bold red"), " the written file disagrees with the vendor's SDK", err=True)
        sys.exit(1)
