"""Offline comparison: every flag, every user, through both providers.

What ``flagport compare`` runs. It records into the same :class:`Evidence` as the
live ``migration`` provider, so the offline table and the live statistics mean the
same thing.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from time import perf_counter_ns
from typing import Any

from flagport.provider import FlagNames, Provider
from flagport.providers.migration.evidence import Evidence, FlagEvidence
from flagport.providers.migration.options import NEW, OLD
from flagport.results import thaw
from flagport.user import User

__all__ = ["OfflineComparison", "compare_offline"]


@dataclass
class OfflineComparison:
    """The outcome of :func:`compare_offline`.

    :ivar evidence: per-flag evidence.
    :ivar users: how many users were evaluated.
    :ivar examples: per flag, the first few mismatches with the user id (offline
        output stays on the operator's machine, unlike the live log).
    """

    evidence: Evidence
    users: int = 0
    examples: dict[str, list[dict[str, Any]]] = field(default_factory=dict)


def _kinds(names: FlagNames) -> list[tuple[str, str, str]]:
    flags = [("gate", "evaluate_gate", n) for n in sorted(names.gates)]
    flags += [("experiment", "evaluate_experiment", n) for n in sorted(names.experiments)]
    flags += [("config", "evaluate_config", n) for n in sorted(names.configs)]
    return flags


def compare_offline(
    old: Provider,
    new: Provider,
    users: Iterable[User],
    *,
    group_map: Mapping[str, Mapping[str, str]] | None = None,
    names: FlagNames | None = None,
    examples: int = 3,
    progress: Callable[[], None] | None = None,
) -> OfflineComparison:
    """Evaluate every flag either provider knows for every user, and compare.

    Both providers must be started. Evaluations are made without exposures.

    :param names: the flags to compare (default: the union of both providers' flags).
    :param examples: mismatches kept per flag, with user ids, for the report.
    :param progress: called once per user (drives a progress bar).
    """
    if names is None:
        names = old.names() | new.names()
    flags = _kinds(names)
    outcome = OfflineComparison(Evidence(group_map))
    # Each flag's evidence and both sides' bound methods, looked up once for all users
    # (on the first user, so no user means no evidence, as before).
    plan: list[tuple[str, FlagEvidence, Callable[..., Any], Callable[..., Any]]] | None = None
    clock = perf_counter_ns
    for user in users:
        outcome.users += 1
        if plan is None:
            plan = [
                (
                    name,
                    outcome.evidence.flag(name, kind),
                    getattr(old, method),
                    getattr(new, method),
                )
                for kind, method, name in flags
            ]
        # The two sides are written out rather than looped over: this runs once per user
        # and flag (five million times for a verify of 5,000 flags over 1,000 users).
        for name, evidence, ask_old, ask_new in plan:
            failed = False
            start = clock()
            try:
                old_answer = ask_old(user, name, expose=False)
            except Exception as exc:
                evidence.error(OLD, exc)
                failed = True
            middle = clock()
            try:
                new_answer = ask_new(user, name, expose=False)
            except Exception as exc:
                evidence.error(NEW, exc)
                failed = True
            if failed:
                continue
            mismatch = evidence.compare(old_answer, new_answer, middle - start, clock() - middle)
            if mismatch is not None:
                kept = outcome.examples.setdefault(name, [])
                if len(kept) < examples:
                    kept.append(
                        {
                            "user_id": user.user_id,
                            "field": mismatch.field,
                            OLD.value: thaw(mismatch.old),
                            NEW.value: thaw(mismatch.new),
                        }
                    )
        if progress is not None:
            progress()
    return outcome
