"""Evidence of agreement: per-flag counters, latencies, errors and the mismatch log.

Everything here is bounded: a latency reservoir keeps a fixed number of samples per
flag and side, and the mismatch log rotates once it reaches half its size bound, so
the log and its one rotated copy never exceed it. Units are written as keyed hashes,
never as ids, and no user attribute is ever written.
"""

from __future__ import annotations

import hashlib
import json
import logging
import math
import os
import random
import threading
import time
import uuid
from array import array
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import IO, Any

from flagport.errors import FlagNotFoundError
from flagport.migration.compare import (
    NO_GROUP,
    chance_agreement,
    chi_square,
    differing_keys,
    kappa,
    same_value,
    split_verdict,
)
from flagport.results import thaw

__all__ = [
    "COUNTED",
    "NEW",
    "OLD",
    "Evidence",
    "FlagEvidence",
    "Mismatch",
    "MismatchLog",
    "Reservoir",
    "UnitHasher",
    "split_summary",
]

logger = logging.getLogger("flagport.migration")

OLD, NEW = 0, 1
MAX_FLAGS = 10_000
"""Flags with their own evidence; any further flag is counted under :data:`OVERFLOW`."""
OVERFLOW = "(other flags)"
SIDES = ("from", "to")
_MAX_VALUE_CHARS = 300


class Reservoir:
    """A uniform sample of at most ``size`` pairs of timings (both sides of a comparison).

    Li's "algorithm L": after the reservoir fills, it computes how many offers to skip
    before the next replacement, so an offer costs a counter increment and a
    comparison, not a random number. Totals are kept exactly.

    :param size: how many pairs to keep.
    """

    __slots__ = ("_random", "_w", "count", "next", "samples", "size", "totals")

    def __init__(self, size: int = 256, seed: int | None = None) -> None:
        self.size = size
        self.count = 0
        self.samples = (array("q"), array("q"))
        self.totals = [0, 0]
        self._random = random.Random(seed).random
        self._w = 1.0
        self.next = size

    def add(self, old_ns: int, new_ns: int) -> None:
        """Offer one pair of timings (nanoseconds)."""
        totals = self.totals
        totals[0] += old_ns
        totals[1] += new_ns
        count = self.count
        self.count = count + 1
        if count < self.size:
            self.samples[0].append(old_ns)
            self.samples[1].append(new_ns)
            if count + 1 == self.size:
                self._skip()
        elif count == self.next:
            slot = int(self._random() * self.size)
            self.samples[0][slot] = old_ns
            self.samples[1][slot] = new_ns
            self._skip()

    def _skip(self) -> None:
        self._w *= math.exp(math.log(self._random() or 1e-300) / self.size)
        if 0.0 < self._w < 1.0:
            gap = math.log(self._random() or 1e-300) / math.log1p(-self._w)
        else:  # w underflowed after an astronomically long run: keep what we have
            gap = 1e18
        self.next = self.count + int(gap)

    def percentiles(self, side: int, *points: float) -> list[float]:
        """Percentiles (0-100) of one side's kept samples, nearest-rank."""
        ordered = sorted(self.samples[side])
        if not ordered:
            return [0.0 for _ in points]
        last = len(ordered) - 1
        return [float(ordered[min(last, max(0, round(p / 100 * last)))]) for p in points]

    def summary_us(self, side: int, of: int | None = None) -> dict[str, float | int]:
        """Count, total and p50/p90/p99/max of one side, in microseconds.

        :param of: how many evaluations the timed ones (``n``) were taken from; the
            total is then their mean cost times that many (an estimate, unless all
            were timed).
        """
        p50, p90, p99, top = self.percentiles(side, 50, 90, 99, 100)
        total: float = self.totals[side]
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
        self.errors = [0, 0]
        self.not_found = [0, 0]
        self.latency = Reservoir(reservoir_size)
        # Plain dicts: a Counter's += costs twice as much (subclass item access).
        self.distribution: tuple[dict[str, int], dict[str, int]] = ({}, {})
        self.passes = [0, 0]  # gates: how often each side said True
        self.compare = (  # type: ignore[method-assign]
            self._compare_experiment if kind == "experiment" else self._compare_value
        )

    def error(self, side: int, error: BaseException | None = None) -> None:
        """Count a failed evaluation on ``side`` (:data:`OLD` or :data:`NEW`).

        :param error: the exception; a ``FlagNotFoundError`` is also counted apart,
            because "the new provider does not have this flag yet" is its own finding.
        """
        self.errors[side] += 1
        if isinstance(error, FlagNotFoundError):
            self.not_found[side] += 1

    def compare(
        self, old: Any, new: Any, old_ns: int = -1, new_ns: int = -1, details: bool = True
    ) -> Mismatch | None:
        """Record one comparison of this flag's results (or booleans from ``check_gate``).

        Experiments compare the old group mapped to its new name, then the values of
        the group; gates and configs compare values. (Replaced per instance by the
        method for its kind, so the kind is not tested on every call.)

        :param old_ns: what the old side's evaluation cost, in ns (-1: not timed).
        :param new_ns: what the new side's evaluation cost, in ns.
        :param details: False when nobody will look at the mismatch (no observer, no
            log): a mismatch is then only counted, and :data:`COUNTED` returned.
        :returns: the mismatch, or ``None`` when both sides agree.
        """
        if self.kind == "experiment":
            return self._compare_experiment(old, new, old_ns, new_ns, details)
        return self._compare_value(old, new, old_ns, new_ns, details)

    # No lock on these paths (one would cost as much as the rest): the counters are
    # plain ``x += 1`` on ints, which the GIL does not interrupt halfway, and the
    # reservoir tolerates a rare race (a slot written twice).

    def _compare_value(
        self, old: Any, new: Any, old_ns: int = -1, new_ns: int = -1, details: bool = True
    ) -> Mismatch | None:
        if type(old) is not bool:
            old, new = old.value, new.value
        self.compared += 1
        if old_ns >= 0:
            self._timed(old_ns, new_ns)
        if old is True:
            self.passes[OLD] += 1
        if new is True:
            self.passes[NEW] += 1
        if old is new:
            return None
        # same_value's own fast paths, inlined: booleans are singletons, and equal
        # values of one type are equal.
        if (
            type(old) is not bool
            and type(new) is not bool
            and ((old == new and type(old) is type(new)) or same_value(old, new))
        ):
            return None
        self.mismatches += 1
        return Mismatch("value", old, new) if details else COUNTED

    def _compare_experiment(
        self, old: Any, new: Any, old_ns: int = -1, new_ns: int = -1, details: bool = True
    ) -> Mismatch | None:
        old_group, new_group = old.group, new.group
        if old_group is not None and self.group_map:
            old_group = self.group_map.get(old_group, old_group)
        old, new = old.value, new.value
        self.compared += 1
        if old_ns >= 0:
            self._timed(old_ns, new_ns)
        old_counts, new_counts = self.distribution
        old_key = NO_GROUP if old_group is None else old_group
        new_key = NO_GROUP if new_group is None else new_group
        try:
            old_counts[old_key] += 1
        except KeyError:
            old_counts[old_key] = 1
        try:
            new_counts[new_key] += 1
        except KeyError:
            new_counts[new_key] = 1
        if old_group != new_group:
            self.mismatches += 1
            self.group_mismatches += 1
            return Mismatch("group", old_group, new_group) if details else COUNTED
        if old is new or (old == new and type(old) is type(new)) or same_value(old, new):
            return None
        self.mismatches += 1
        self.value_mismatches += 1
        return Mismatch("value", old, new) if details else COUNTED

    def tally(self, table: list[int]) -> None:
        """Record untimed comparisons of booleans from a 2x2 table of counts, indexed
        ``old << 1 | new`` (what a batch of ``check_gate`` comparisons adds up to)."""
        both_false, new_only, old_only, both_true = table
        self.compared += both_false + new_only + old_only + both_true
        self.passes[OLD] += old_only + both_true
        self.passes[NEW] += new_only + both_true
        self.mismatches += new_only + old_only

    def _timed(self, old_ns: int, new_ns: int) -> None:
        latency = self.latency
        if latency.count >= latency.size and latency.count != latency.next:
            # Reservoir.add's common case, inlined: count the pair, keep no sample.
            latency.count += 1
            latency.totals[0] += old_ns
            latency.totals[1] += new_ns
        else:
            latency.add(old_ns, new_ns)

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
            "errors": dict(zip(SIDES, self.errors, strict=True)),
            "not_found": dict(zip(SIDES, self.not_found, strict=True)),
            "latency_us": {
                side: self.latency.summary_us(i, compared) for i, side in enumerate(SIDES)
            },
        }
        if self.kind == "experiment":
            old, new = dict(self.distribution[OLD]), dict(self.distribution[NEW])
            group_mismatches, value_mismatches = self.group_mismatches, self.value_mismatches
        else:
            old = {"true": self.passes[OLD], "false": compared - self.passes[OLD]}
            new = {"true": self.passes[NEW], "false": compared - self.passes[NEW]}
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
        "distribution": {"from": dict(old), "to": dict(new)},
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


class UnitHasher:
    """Keyed hash of a unit id: stable within a deployment, useless without the key.

    :param key: the secret mixed in (option ``hash_salt``).
    """

    def __init__(self, key: str) -> None:
        self._key = hashlib.sha256(key.encode("utf-8")).digest()[:32]

    def __call__(self, unit: str | None) -> str:
        if not unit:
            return ""
        digest = hashlib.blake2b(unit.encode("utf-8"), key=self._key, digest_size=8)
        return digest.hexdigest()


def _bounded(value: Any) -> Any:
    """The value itself when short; otherwise its size and a digest."""
    try:
        text = json.dumps(value, sort_keys=True, default=str)
    except (TypeError, ValueError):
        text = repr(value)
    if len(text) <= _MAX_VALUE_CHARS:
        return value
    digest = hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]
    return {"truncated": True, "chars": len(text), "sha256": digest}


class MismatchLog:
    """An append-only JSON-lines file of mismatches and periodic summaries.

    ``{pid}`` in the path is replaced by the process id, so forked workers write
    their own files. Writes are buffered and flushed by :meth:`flush`; the file is
    opened on the first write. When the file reaches half of ``max_bytes`` it
    becomes ``<path>.1`` (replacing the previous one), so both together stay under
    ``max_bytes``.

    :param path: the log file.
    :param max_bytes: the size bound of the file and its rotated copy together.
    """

    def __init__(self, path: str | os.PathLike[str], max_bytes: int = 10_000_000) -> None:
        self.path = Path(str(path).replace("{pid}", str(os.getpid())))
        self.max_bytes = max_bytes
        self.run = uuid.uuid4().hex[:12]
        self.written = 0
        self.rotations = 0
        self.failures = 0
        self._size = 0
        self._fh: IO[str] | None = None
        self._lock = threading.Lock()

    def _open(self) -> IO[str]:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fh = self.path.open("a", encoding="utf-8", buffering=65536)
        self._size = fh.tell()
        return fh

    def write(self, record: Mapping[str, Any]) -> None:
        """Append one record (a ``time`` and the ``run`` id are added). Never raises."""
        line = json.dumps({"time": round(time.time(), 3), "run": self.run, **record}) + "\n"
        size = len(line.encode("utf-8"))
        with self._lock:
            try:
                if self._fh is None:
                    self._fh = self._open()
                if self._size + size > self.max_bytes // 2 and self._size > 0:
                    self._fh.close()
                    os.replace(self.path, self.path.with_name(self.path.name + ".1"))
                    self.rotations += 1
                    self._fh = self._open()
                self._fh.write(line)
                self._size += size
                self.written += 1
            except OSError as exc:
                self.failures += 1
                if self.failures == 1:
                    logger.warning("flagport: mismatch log %s not written: %s", self.path, exc)

    def flush(self) -> None:
        """Push buffered lines to the file."""
        with self._lock:
            if self._fh is not None:
                try:
                    self._fh.flush()
                except OSError:
                    self.failures += 1

    def close(self) -> None:
        """Flush and close; a later write reopens the file."""
        with self._lock:
            if self._fh is not None:
                try:
                    self._fh.close()
                except OSError:
                    self.failures += 1
                self._fh = None

    def stats(self) -> dict[str, Any]:
        return {
            "path": str(self.path),
            "written": self.written,
            "bytes": self._size,
            "rotations": self.rotations,
            "failures": self.failures,
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
        served_new: bool,
        extra: Mapping[str, Any] | None = None,
    ) -> None:
        """Tell the observer and the log about a mismatch. Never raises."""
        if self.observer is None and self.log is None:
            return
        key = self.hasher(unit)
        old, new = thaw(mismatch.old), thaw(mismatch.new)
        served, other = (new, old) if served_new else (old, new)
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
                "served": "to" if served_new else "from",
                "from": _bounded(old),
                "to": _bounded(new),
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
