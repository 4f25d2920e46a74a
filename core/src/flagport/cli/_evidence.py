"""Per-flag evidence as the comparison commands show it: agreement, chance, a table.

Shared by ``flagport compare`` (:mod:`flagport.cli.compare`) and ``flagport migrate
report|plan`` (:mod:`flagport.cli.migrate`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any

from rich.table import Table

from flagport.cli._output import say, show, styled

__all__ = ["COLOURS", "agreement_rate", "evidence_table", "p_value", "show_evidence"]

#: The colour of a good (True) or a bad (False) outcome.
COLOURS = {True: "green", False: "red"}


def agreement_rate(data: Mapping[str, Any]) -> float | None:
    compared = int(data.get("compared", 0))
    return 1.0 - int(data.get("mismatches", 0)) / compared if compared else None


def p_value(data: Mapping[str, Any]) -> float | None:
    split = data.get("split")
    return float(split["chi_square"]["p_value"]) if split else None


def _chance(data: Mapping[str, Any]) -> float | None:
    split = data.get("split")
    return float(split["chance_agreement"]) if split else None


def evidence_table(title: str, flags: Mapping[str, dict[str, Any]], *, with_stage: bool) -> Table:
    table = Table(title=title)
    table.add_column("flag", style="bold")
    table.add_column("kind")
    if with_stage:
        table.add_column("stage")
    for column in ("compared", "agree", "by chance", "split p", "errors"):
        table.add_column(column, justify="right")
    table.add_column("verdict")
    for name, data in flags.items():
        agreement, chance, p = agreement_rate(data), _chance(data), p_value(data)
        verdict = data["assessment"]["verdict"]
        good = verdict in ("agree", "done", "new flag") or verdict.startswith("expected")
        row: list[Any] = [styled(name), data.get("kind", "")]
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
        table.add_row(*row, styled((verdict, COLOURS[good])))
    return table


def show_evidence(
    title: str,
    flags: Mapping[str, dict[str, Any]],
    *,
    with_stage: bool,
    notes: Callable[[Mapping[str, Any]], Iterable[str]],
) -> None:
    """Print the evidence table, then each flag's ``notes`` (examples, patterns) under it."""
    show(evidence_table(title, flags, with_stage=with_stage))
    for name, data in flags.items():
        for note in notes(data):
            say("  ", (name, "yellow"), f" {note}")
