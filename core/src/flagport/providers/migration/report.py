"""Reading a migration's evidence back: mismatch logs, summaries, and readiness.

The mismatch log holds ``mismatch`` lines and cumulative ``summary`` lines, one
series per process run. :func:`read_log` keeps the latest summary of each run and
:func:`merge_flags` adds the runs together; :func:`assess` decides, per flag,
whether it is ready for its next stage.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from flagport.providers.migration.compare import Verdict
from flagport.providers.migration.evidence import split_summary

__all__ = [
    "Assessment",
    "LogContents",
    "assess",
    "find_flags",
    "merge_flags",
    "merge_log",
    "read_log",
]

NEXT_STAGE = {"offline": "shadow", "from": "shadow", "shadow": "live", "live": "to", "to": "done"}
_SUMMED = ("compared", "mismatches")
_TYPES = ("summary", "mismatch")


@dataclass
class LogContents:
    """What a mismatch log (and its rotated copy) holds.

    :ivar summaries: the latest summary of each run, by run id.
    :ivar mismatches: every mismatch line, oldest first.
    :ivar bad_lines: lines that were not valid JSON records (e.g. cut by a crash).
    :ivar left_out: records of runs that started before ``since``, not counted.
    """

    summaries: dict[str, dict[str, Any]] = field(default_factory=dict)
    mismatches: list[dict[str, Any]] = field(default_factory=list)
    bad_lines: int = 0
    left_out: int = 0
    first: float | None = None
    last: float | None = None


def read_log(path: str | Path, since: float | None = None) -> LogContents:
    """Read a mismatch log, starting with its rotated copy ``<path>.1`` if present.

    :param since: Unix time; only runs (process lifetimes) that started at or after
        it count, e.g. the runs since a fix to the new provider's definitions.
    :raises FileNotFoundError: neither file exists.
    """
    base = Path(path)
    files = [p for p in (base.with_name(base.name + ".1"), base) if p.is_file()]
    if not files:
        raise FileNotFoundError(f"no mismatch log at {base}")
    contents = LogContents()
    started: dict[str, float] = {}
    records: list[dict[str, Any]] = []
    for file in files:
        # A line cut by a crash mid-write, or of another program, is counted, not fatal.
        with file.open(encoding="utf-8-sig", errors="replace") as fh:
            for line in fh:
                try:
                    record = json.loads(line)
                except (json.JSONDecodeError, RecursionError):
                    contents.bad_lines += 1
                    continue
                if not isinstance(record, dict) or record.get("type") not in _TYPES:
                    contents.bad_lines += 1
                    continue
                when = record.get("time")
                if isinstance(when, int | float):
                    run = str(record.get("run"))
                    started[run] = min(started.get(run, when), when)
                records.append(record)
    for record in records:
        run, when = str(record.get("run")), record.get("time")
        if since is not None and started.get(run, 0.0) < since:
            contents.left_out += 1
            continue
        if isinstance(when, int | float):
            contents.first = when if contents.first is None else min(contents.first, when)
            contents.last = when if contents.last is None else max(contents.last, when)
        if record["type"] == "summary" and isinstance(record.get("flags"), dict):
            contents.summaries[run] = record
        elif record["type"] == "mismatch":
            contents.mismatches.append(record)
    return contents


def merge_flags(runs: Iterable[Mapping[str, Mapping[str, Any]]]) -> dict[str, dict[str, Any]]:
    """Add per-flag evidence of several runs together (latest stage wins)."""
    merged: dict[str, dict[str, Any]] = {}
    for flags in runs:
        for name, data in flags.items():
            into = merged.setdefault(
                name,
                {
                    "kind": data.get("kind", "gate"),
                    "compared": 0,
                    "mismatches": 0,
                    "errors": {"from": 0, "to": 0},
                    "not_found": {"from": 0, "to": 0},
                },
            )
            for key in _SUMMED:
                into[key] += int(data.get(key, 0))
            for key in ("errors", "not_found"):
                for side in ("from", "to"):
                    into[key][side] += int(data.get(key, {}).get(side, 0))
            for key in ("stage", "ramp"):
                if key in data:
                    into[key] = data[key]
            split = data.get("split")
            if split:
                target = into.setdefault(
                    "split", {"group_mismatches": 0, "value_mismatches": 0, "distribution": {}}
                )
                target["group_mismatches"] += int(split.get("group_mismatches", 0))
                target["value_mismatches"] += int(split.get("value_mismatches", 0))
                for side in ("from", "to"):
                    counts = Counter(target["distribution"].get(side, {}))
                    counts.update(split.get("distribution", {}).get(side, {}))
                    target["distribution"][side] = dict(counts)
    for data in merged.values():
        compared = data["compared"]
        data["mismatch_rate"] = data["mismatches"] / compared if compared else 0.0
        split = data.get("split")
        if split:
            dist = split["distribution"]
            data["split"] = split_summary(
                compared,
                split["group_mismatches"],
                split["value_mismatches"],
                dist.get("from", {}),
                dist.get("to", {}),
            )
    return merged


def merge_log(contents: LogContents) -> dict[str, dict[str, Any]]:
    """Every run's evidence added together, with each flag's stage as of the last run.

    Flags the last run did not compare (a flag moved to ``to`` is never compared)
    still get the stage that run was configured with.
    """
    summaries = sorted(contents.summaries.values(), key=lambda r: r.get("time", 0))
    flags = merge_flags(s["flags"] for s in summaries)
    if summaries and "stage" in summaries[-1]:
        last = summaries[-1]
        for name, data in flags.items():
            stage = last.get("stages", {}).get(name, last["stage"])
            data["stage"] = stage
            ramp = last.get("ramp", {}).get(name)
            if ramp is not None and stage in ("shadow", "live"):
                data["ramp"] = ramp
            else:
                data.pop("ramp", None)
    return flags


def find_flags(data: Any) -> dict[str, dict[str, Any]] | None:
    """The per-flag evidence inside a JSON document (stats, compare output, summary)."""
    if isinstance(data, dict):
        flags = data.get("flags")
        if isinstance(flags, dict) and all(
            isinstance(v, dict) and "compared" in v for v in flags.values()
        ):
            return flags
        for value in data.values():
            found = find_flags(value)
            if found is not None:
                return found
    return None


@dataclass(frozen=True, slots=True)
class Assessment:
    """Whether a flag may move on, and why.

    :ivar stage: the current stage (``offline`` for an offline comparison).
    :ivar verdict: what the evidence says (a
        :class:`~flagport.providers.migration.compare.Verdict`).
    :ivar ready: whether the next stage is safe by the thresholds given.
    :ivar next_stage: the stage to move to (``done`` once at ``to``).
    :ivar reason: one sentence for a person.
    """

    stage: str
    verdict: str
    ready: bool
    next_stage: str
    reason: str

    def to_dict(self) -> dict[str, Any]:
        return {
            "stage": self.stage,
            "verdict": self.verdict,
            "ready": self.ready,
            "next_stage": self.next_stage,
            "reason": self.reason,
        }


def _verdict(data: Mapping[str, Any], threshold: float, min_sample: int) -> str:
    compared = int(data.get("compared", 0))
    split = data.get("split")
    if split:
        dist = split["distribution"]
        summary = split_summary(
            compared,
            int(split.get("group_mismatches", 0)),
            int(split.get("value_mismatches", 0)),
            dist.get("from", {}),
            dist.get("to", {}),
            min_sample=min_sample,
            agreement=threshold,
        )
        return str(summary["verdict"])
    if compared < min_sample:
        return Verdict.INSUFFICIENT
    agreement = 1.0 - int(data.get("mismatches", 0)) / compared
    return Verdict.AGREE if agreement >= threshold else Verdict.MISMATCH


def assess(
    data: Mapping[str, Any],
    *,
    threshold: float = 0.999,
    min_sample: int = 1000,
    stage: str | None = None,
) -> Assessment:
    """Decide whether one flag is ready for its next stage.

    A flag is ready when at least ``min_sample`` evaluations were compared, at least
    ``threshold`` of them agreed (for experiments: the same split, see
    :func:`~flagport.providers.migration.compare.split_verdict`) and the new provider's
    error rate is below ``1 - threshold``. ``from`` may always move to ``shadow``
    (shadow serves the same answers; it only starts comparing) once the new provider
    has the flag.
    """
    current = stage or str(data.get("stage", "offline"))
    following = NEXT_STAGE.get(current, "shadow")
    compared = int(data.get("compared", 0))
    errors = data.get("errors", {})
    missing = data.get("not_found", {})
    new_errors, new_missing = int(errors.get("to", 0)), int(missing.get("to", 0))
    if current == "to":
        return Assessment(
            current,
            "done",
            True,
            "done",
            "served by the new provider only: "
            "remove the flag from the old provider when convenient",
        )
    if new_missing and not compared:
        return Assessment(
            current, "missing in the new provider", False, following,
            "create the flag in the new provider first",
        )  # fmt: skip
    if int(missing.get("from", 0)) and not compared:
        return Assessment(
            current, "new flag", True, "to", "only the new provider has it: serve it from there"
        )
    verdict = _verdict(data, threshold, min_sample)
    attempts = compared + new_errors
    if attempts and new_errors / attempts > 1.0 - threshold:
        return Assessment(
            current, verdict, False, following,
            f"the new provider failed {new_errors} of {attempts} evaluations",
        )  # fmt: skip
    if current == "from" and not compared:
        return Assessment(
            current, Verdict.INSUFFICIENT, True, following,
            "shadow serves the same answers and starts collecting evidence",
        )  # fmt: skip
    if verdict == Verdict.INSUFFICIENT:
        return Assessment(
            current, verdict, False, following,
            f"{compared} compared; wait for at least {min_sample}",
        )  # fmt: skip
    if verdict == Verdict.AGREE:
        rate = 1.0 - int(data.get("mismatches", 0)) / compared
        return Assessment(
            current, verdict, True, following,
            f"{rate:.2%} of {compared} evaluations agree",
        )  # fmt: skip
    if verdict == Verdict.DIFFERENT_BUCKETING:
        moved = int(data.get("split", {}).get("group_mismatches", 0)) / compared
        if data.get("kind") == "experiment":
            why = (
                f"same split, different bucketing: {moved:.0%} of users would change "
                f"group; move when the experiment ends, or keep the old hashing "
                f"(local provider)"
            )
        else:
            why = (
                f"same rollout, different bucketing: {moved:.0%} of users would flip; "
                f"ramp it so they flip gradually"
            )
        return Assessment(current, verdict, True, following, why)
    rate = int(data.get("mismatches", 0)) / compared if compared else 0.0
    return Assessment(
        current, verdict, False, following,
        f"{rate:.2%} of {compared} evaluations disagree; see `flagport migrate report`",
    )  # fmt: skip
