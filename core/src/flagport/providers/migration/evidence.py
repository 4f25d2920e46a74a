"""Evidence of agreement: per-flag counters, latencies and errors, and mismatch reports.

Everything here is bounded: a latency reservoir keeps a fixed number of samples per
flag and side, and the number of flags with their own evidence is capped. Mismatches
go to an observer and to the :class:`~flagport.providers.migration.mismatch_log.MismatchLog`
with units as keyed hashes, never as ids; no user attribute is ever written.
"""

from __future__ import annotations

import logging
import math
import random
import threading
from array import array
from collections.abc import Callable, Mapping
from typing import Any

from flagport.errors import FlagNotFoundError
from flagport.providers.migration.compare import (
    NO_GROUP,
    chance_agreement,
    chi_square,
    differing_keys,
    kappa,
    same_value,
    split_verdict,
)
from flagport.providers.migration.mismatch_log import MismatchLog, UnitHasher, bounded
from flagport.providers.migration.options import NEW, OLD, Side
from flagport.results import thaw

__all__ = [
    "COUNTED",
    "Evidence",
    "FlagEvidence",
    "Mismatch",
    "MismatchLog",
    "Reservoir",
    "UnitHasher",
    "split_summary",
]

logger = logging.getLogger("flagport.providers.migration")

MAX_FLAGS = 10_000
"""Flags with their own evidence; any further flag is counted under :data:`OVERFLOW`."""
OVERFLOW = "(other flags)"


class Reservoir:
    """A uniform sample of at most ``size`` pairs of timings (both sides of a comparison).

    Li's "algorithm L": after the reservoir fills, it computes how many offers to skip
    before the next replacement, so an offer costs a counter increment and a
    comparison, not a random number. Totals are kept exactly.

    :param size: how many pairs to keep.
    """

    __slots__ = ("_random", "_w", "count", "new_total", "next", "old_total", "samples", "size")

    def __init__(self, size: int = 256, seed: int | None = None) -> None:
        self.size = size
        self.count = 0
        self.samples = {OLD: array("q"), NEW: array("q")}
        self.old_total = self.new_total = 0
        self._random = random.Random(seed).random
        self._w = 1.0
        self.next = size

    def add(self, old_ns: int, new_ns: int) -> None:
        """Offer one pair of timings (nanoseconds)."""
        self.old_total += old_ns
        self.new_total += new_ns
        count = self.count
        self.count = count + 1
        if count < self.size or count == self.next:
            self._keep(count, old_ns, new_ns)

    def _keep(self, count: int, old_ns: int, new_ns: int) -> None:
        old, new = self.samples[OLD], self.samples[NEW]
        if count < self.size:
            old.append(old_ns)
            new.append(new_ns)
            if count + 1 == self.size:
                self._skip()
        else:
            slot = int(self._random() * self.size)
            old[slot] = old_ns
            new[slot] = new_ns
            self._skip()

    def _skip(self) -> None:
        self._w *= math.exp(math.log(self._random() or 1e-300) / self.size)
        if 0.0 < self._w < 1.0:
            gap = math.log(self._random() or 1e-300) / math.log1p(-self._w)
        else:  # w underflowed after an astronomically long run: keep what we have
            gap = 1e18
        self.next = self.count + int(gap)

    def percentiles(self, side: Side, *points: float) -> list[float]:
        """Percentiles (0-100) of one side's kept samples, nearest-rank."""
        ordered = sorted(self.samples[side])
        if not ordered:
            return [0.0 for _ in points]
        last = len(ordered) - 1
        return [float(ordered[min(last, max(0, round(p / 100 * last)))]) for p in points]

    def summary_us(self, side: Side, of: int | None = None) -> dict[str, float | int]:
        """Count, total and p50/p90/p99/max of one side, in microseconds.

        :param of: how many evaluations the timed ones (``n``) were taken from; the
            total is then their mean cost times that many (an estimate, unless all
            were timed).
        """
        p50, p90, p99, top = self.percentiles(side, 50, 90, 99, 100)
        total: float = self.old_total if side is OLD else self.new_total
        if of is not None and self.count:
            total = total * of / self.count
        return {
            "n": self.count,
            "total": round(total / 1000, 1),
            "p50": round(p50 / 1000, 3),
            "p90": round(p90 / 1000, 3),
            "p99": round(p99 / 1000, 3),
            "max": round(top / 1000, 3),
        }


class Mismatch:
    """One disagreement, as observed. Cheap to build: it only holds references.

    :ivar field: ``"value"`` (gates, configs, experiment values) or ``"group"``.
    :ivar old: the old provider's value (its group, mapped, for ``"group"``).
    :ivar new: the new provider's value.
    """

    __slots__ = ("field", "new", "old")

    def __init__(self, field: str, old: Any, new: Any) -> None:
        self.field = field
        self.old = old
        self.new = new

    @property
    def keys(self) -> tuple[str, ...]:
        """For mapping values, the top-level keys that differ."""
        return tuple(differing_keys(self.old, self.new))

    def __repr__(self) -> str:
        return f"Mismatch({self.field!r}, {self.old!r}, {self.new!r})"


COUNTED = Mismatch("", None, None)
"""What :meth:`FlagEvidence.compare` returns for a mismatch it was told not to detail."""


class FlagEvidence:
    """Counters for one flag: cheap enough for every compared call, safe across threads.

    :param name: the flag name.
    :param kind: ``"gate"``, ``"experiment"`` or ``"config"``.
    :param group_map: for experiments, old group name -> new group name.
    """

    def __init__(
        self,
        name: str,
        kind: str,
        group_map: Mapping[str, str] | None = None,
        reservoir_size: int = 256,
    ) -> None:
        self.name = name
        self.kind = kind
        self.group_map = dict(group_map or {})
        self.compared = 0
        self.mismatches = 0
        self.group_mismatches = 0
        self.value_mismatches = 0
        self.errors = dict.fromkeys(Side, 0)
        self.not_found = dict.fromkeys(Side, 0)
        self.latency = Reservoir(reservoir_size)
        #: experiments: how many units each side put in each group
        self.distribution: dict[Side, dict[str, int]] = {OLD: {}, NEW: {}}
        #: gates: how often each side said True
        self.passes = dict.fromkeys(Side, 0)

    def error(self, side: Side, error: BaseException | None = None) -> None:
        """Count a failed evaluation on ``side``.

        :param error: the exception; a ``FlagNotFoundError`` is also counted apart,
            because "the new provider does not have this flag yet" is its own finding.
        """
        self.errors[side] += 1
        if isinstance(error, FlagNotFoundError):
            self.not_found[side] += 1

    # No lock on these paths (one would cost as much as the rest): the counters are
    # plain ``x += 1`` on ints, which the GIL does not interrupt halfway, and the
    # reservoir tolerates a rare race (a slot written twice).

    def compare(
        self, old: Any, new: Any, old_ns: int = -1, new_ns: int = -1, details: bool = True
    ) -> Mismatch | None:
        """Record one comparison of this flag's results (or booleans from ``check_gate``).

        Experiments compare the old group mapped to its new name, then the values of
        the group; gates and configs compare values.

        :param old_ns: what the old side's evaluation cost, in ns (-1: not timed).
        :param new_ns: what the new side's evaluation cost, in ns.
        :param details: False when nobody will look at the mismatch (no observer, no
            log): a mismatch is then only counted, and :data:`COUNTED` returned.
        :returns: the mismatch, or ``None`` when both sides agree.
        """
        self.compared += 1
        if old_ns >= 0:
            self.latency.add(old_ns, new_ns)
        if self.kind == "experiment":
            mismatch = self._experiment_mismatch(old, new, details)
        else:
            mismatch = self._value_mismatch(old, new, details)
        if mismatch is not None:
            self.mismatches += 1
        return mismatch

    def _value_mismatch(self, old: Any, new: Any, details: bool) -> Mismatch | None:
        if type(old) is not bool:  # a result, not check_gate's boolean
            old, new = old.value, new.value
        if old is True:
            self.passes[OLD] += 1
        if new is True:
            self.passes[NEW] += 1
        if old is new:  # booleans (gates) are singletons
            return None
        # Two different booleans differ; anything else may still be the same value
        # (a scalar and a vendor's {"value": scalar}).
        if (type(old) is not bool or type(new) is not bool) and same_value(old, new):
            return None
        return Mismatch("value", old, new) if details else COUNTED

    def _experiment_mismatch(self, old: Any, new: Any, details: bool) -> Mismatch | None:
        old_group, new_group = old.group, new.group
        if old_group is not None and self.group_map:
            old_group = self.group_map.get(old_group, old_group)
        # Both sides written out: this runs for every compared call (a verify of 5,000
        # flags over 1,000 users makes five million).
        distribution = self.distribution
        counts, key = distribution[OLD], NO_GROUP if old_group is None else old_group
        counts[key] = counts.get(key, 0) + 1
        counts, key = distribution[NEW], NO_GROUP if new_group is None else new_group
        counts[key] = counts.get(key, 0) + 1
        if old_group != new_group:
            self.group_mismatches += 1
            return Mismatch("group", old_group, new_group) if details else COUNTED
        if same_value(old.value, new.value):
            return None
        self.value_mismatches += 1
        return Mismatch("value", old.value, new.value) if details else COUNTED

    def to_dict(self, *, min_sample: int = 100, agreement: float = 0.99) -> dict[str, Any]:
        """JSON-ready evidence; gates and experiments add their ``split``.

        The split is the distribution of users over groups (gates: over true and
        false) on each side, the chi-square test between them, the agreement two
        independent bucketings would reach by chance, and the verdict.
        """
        # A snapshot without a lock: writers take none (see compare), and copying a
        # dict or sorting an array is one step under the GIL.
        compared = self.compared
        data: dict[str, Any] = {
            "name": self.name,
            "kind": self.kind,
            "compared": compared,
            "mismatches": self.mismatches,
            "mismatch_rate": self.mismatches / compared if compared else 0.0,
            "errors": {side.value: n for side, n in self.errors.items()},
            "not_found": {side.value: n for side, n in self.not_found.items()},
            "latency_us": {side.value: self.latency.summary_us(side, compared) for side in Side},
        }
        if self.kind == "experiment":
            old, new = dict(self.distribution[OLD]), dict(self.distribution[NEW])
            group_mismatches, value_mismatches = self.group_mismatches, self.value_mismatches
        else:
            passes = self.passes
            old = {"true": passes[OLD], "false": compared - passes[OLD]}
            new = {"true": passes[NEW], "false": compared - passes[NEW]}
            group_mismatches, value_mismatches = self.mismatches, 0
        if self.kind != "config":
            data["split"] = split_summary(
                compared,
                group_mismatches,
                value_mismatches,
                old,
                new,
                min_sample=min_sample,
                agreement=agreement,
            )
        return data


def split_summary(
    compared: int,
    group_mismatches: int,
    value_mismatches: int,
    old: Mapping[str, int],
    new: Mapping[str, int],
    *,
    min_sample: int = 100,
    agreement: float = 0.99,
) -> dict[str, Any]:
    """The ``split`` section of a flag's evidence (see :meth:`FlagEvidence.to_dict`)."""
    test = chi_square(old, new)
    chance = chance_agreement(old, new)
    return {
        "group_mismatches": group_mismatches,
        "value_mismatches": value_mismatches,
        "distribution": {OLD.value: dict(old), NEW.value: dict(new)},
        "chi_square": test.to_dict(),
        "chance_agreement": chance,
        "kappa": kappa(1.0 - group_mismatches / compared, chance) if compared else 0.0,
        "verdict": split_verdict(
            compared,
            group_mismatches,
            value_mismatches,
            test,
            chance,
            min_sample=min_sample,
            agreement=agreement,
        ),
    }


MismatchObserver = Callable[..., Any]


class Evidence:
    """Evidence for every flag of one migration (or one offline comparison).

    :param group_map: per experiment, old group name -> new group name.
    :param hasher: turns unit ids into the keys written to the log and the hook.
    :param log: where mismatches are written, if anywhere.
    :param observer: the ``flagport_on_mismatch`` hook caller, or ``None`` when no
        plugin implements it.
    """

    def __init__(
        self,
        group_map: Mapping[str, Mapping[str, str]] | None = None,
        *,
        hasher: UnitHasher | None = None,
        log: MismatchLog | None = None,
        observer: MismatchObserver | None = None,
    ) -> None:
        self.group_map = {k: dict(v) for k, v in (group_map or {}).items()}
        self.hasher = hasher or UnitHasher("flagport-migration")
        self.log = log
        self.observer = observer
        self.flags: dict[str, FlagEvidence] = {}
        self._lock = threading.Lock()

    def flag(self, name: str, kind: str) -> FlagEvidence:
        """The evidence of one flag, created on first use."""
        found = self.flags.get(name)
        if found is not None and found.kind == kind:
            return found
        key = name if found is None or found.kind == kind else f"{kind}:{name}"
        with self._lock:
            found = self.flags.get(key)
            if found is None:
                if len(self.flags) >= MAX_FLAGS:
                    # Flag names made up at run time must not grow memory without end.
                    key = f"{kind}:{OVERFLOW}"
                    found = self.flags.get(key) or FlagEvidence(OVERFLOW, kind)
                else:
                    found = FlagEvidence(name, kind, self.group_map.get(name))
                self.flags = {**self.flags, key: found}
        return found

    def report(
        self,
        evidence: FlagEvidence,
        mismatch: Mismatch,
        unit: str | None,
        served_by: Side,
        extra: Mapping[str, Any] | None = None,
    ) -> None:
        """Tell the observer and the log about a mismatch. Never raises."""
        if self.observer is None and self.log is None:
            return
        key = self.hasher(unit)
        old, new = thaw(mismatch.old), thaw(mismatch.new)
        served, other = (old, new) if served_by is OLD else (new, old)
        if self.observer is not None:
            try:
                self.observer(
                    flag=evidence.name, kind=evidence.kind, user_key=key, served=served, other=other
                )
            except Exception:
                logger.exception("flagport: an on_mismatch observer failed")
        if self.log is not None:
            record: dict[str, Any] = {
                "type": "mismatch",
                "flag": evidence.name,
                "kind": evidence.kind,
                "field": mismatch.field,
                "unit": key,
                "served": served_by.value,
                OLD.value: bounded(old),
                NEW.value: bounded(new),
            }
            keys = mismatch.keys
            if keys:
                record["keys"] = list(keys)
            if extra:
                record.update(extra)
            self.log.write(record)

    def to_dict(self, *, min_sample: int = 100, agreement: float = 0.99) -> dict[str, Any]:
        """Every flag's evidence, by flag name."""
        return {
            key: ev.to_dict(min_sample=min_sample, agreement=agreement)
            for key, ev in sorted(self.flags.items())
        }
