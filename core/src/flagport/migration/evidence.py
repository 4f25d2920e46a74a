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
import os
import random
import threading
import time
import uuid
from array import array
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass
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
SIDES = ("from", "to")
_MAX_VALUE_CHARS = 300


class Reservoir:
    """A uniform sample of at most ``size`` values (Vitter's algorithm R).

    :param size: how many samples to keep.
    """

    __slots__ = ("_random", "count", "samples", "size")

    def __init__(self, size: int = 512) -> None:
        self.size = size
        self.count = 0
        self.samples = array("q")
        self._random = random.Random(size).random

    def add(self, value: int) -> None:
        """Offer one value; it is kept with probability ``size / count``."""
        self.count += 1
        if len(self.samples) < self.size:
            self.samples.append(value)
            return
        slot = int(self._random() * self.count)
        if slot < self.size:
            self.samples[slot] = value

    def percentiles(self, *points: float) -> list[float]:
        """The given percentiles (0-100) of the kept samples, nearest-rank."""
        ordered = sorted(self.samples)
        if not ordered:
            return [0.0 for _ in points]
        last = len(ordered) - 1
        return [float(ordered[min(last, max(0, round(p / 100 * last)))]) for p in points]

    def summary_us(self) -> dict[str, float | int]:
        """Count and p50/p90/p99/max in microseconds (samples are nanoseconds)."""
        p50, p90, p99, top = self.percentiles(50, 90, 99, 100)
        return {
            "n": self.count,
            "p50": round(p50 / 1000, 3),
            "p90": round(p90 / 1000, 3),
            "p99": round(p99 / 1000, 3),
            "max": round(top / 1000, 3),
        }


@dataclass(frozen=True, slots=True)
class Mismatch:
    """One disagreement, as observed.

    :ivar field: ``"value"`` (gates, configs, experiment values) or ``"group"``.
    :ivar old: the old provider's value (its group, mapped, for ``"group"``).
    :ivar new: the new provider's value.
    :ivar keys: for mapping values, the top-level keys that differ.
    """

    field: str
    old: Any
    new: Any
    keys: tuple[str, ...] = ()


class FlagEvidence:
    """Counters for one flag. Thread-safe; cheap enough for every compared call.

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
        self.latency = (Reservoir(reservoir_size), Reservoir(reservoir_size))
        self.distribution: tuple[Counter[str], Counter[str]] = (Counter(), Counter())
        self.passes = [0, 0]  # gates: how often each side said True
        self._lock = threading.Lock()

    def error(self, side: int, error: BaseException | None = None) -> None:
        """Count a failed evaluation on ``side`` (:data:`OLD` or :data:`NEW`).

        :param error: the exception; a ``FlagNotFoundError`` is also counted apart,
            because "the new provider does not have this flag yet" is its own finding.
        """
        with self._lock:
            self.errors[side] += 1
            if isinstance(error, FlagNotFoundError):
                self.not_found[side] += 1

    def timing(self, old_ns: int, new_ns: int) -> None:
        """Record the cost of one evaluation on each side, in nanoseconds."""
        with self._lock:
            self.latency[OLD].add(old_ns)
            self.latency[NEW].add(new_ns)

    def compare(self, old: Any, new: Any) -> Mismatch | None:
        """Compare two results of this flag (or two booleans from ``check_gate``)."""
        if self.kind == "experiment":
            return self.experiment(old.group, old.value, new.group, new.value)
        if isinstance(old, bool):
            return self.value(old, new)
        return self.value(old.value, new.value)

    def value(self, old: Any, new: Any) -> Mismatch | None:
        """Compare a gate's or a config's values."""
        equal = old is new or same_value(old, new)
        with self._lock:
            self.compared += 1
            if old is True:
                self.passes[OLD] += 1
            if new is True:
                self.passes[NEW] += 1
            if equal:
                return None
            self.mismatches += 1
        return Mismatch("value", thaw(old), thaw(new), tuple(differing_keys(old, new)))

    def experiment(
        self, old_group: str | None, old_value: Any, new_group: str | None, new_value: Any
    ) -> Mismatch | None:
        """Compare an experiment assignment: the mapped group, then the values."""
        mapped = self.group_map.get(old_group, old_group) if old_group is not None else None
        same_group = mapped == new_group
        equal_values = same_group and (old_value is new_value or same_value(old_value, new_value))
        with self._lock:
            self.compared += 1
            self.distribution[OLD][mapped if mapped is not None else NO_GROUP] += 1
            self.distribution[NEW][new_group if new_group is not None else NO_GROUP] += 1
            if equal_values:
                return None
            self.mismatches += 1
            if same_group:
                self.value_mismatches += 1
            else:
                self.group_mismatches += 1
        if not same_group:
            return Mismatch("group", mapped, new_group)
        return Mismatch(
            "value", thaw(old_value), thaw(new_value), tuple(differing_keys(old_value, new_value))
        )

    def to_dict(self, *, min_sample: int = 100, agreement: float = 0.99) -> dict[str, Any]:
        """JSON-ready evidence; gates and experiments add their ``split``.

        The split is the distribution of users over groups (gates: over true and
        false) on each side, the chi-square test between them, the agreement two
        independent bucketings would reach by chance, and the verdict.
        """
        with self._lock:
            compared = self.compared
            data: dict[str, Any] = {
                "name": self.name,
                "kind": self.kind,
                "compared": compared,
                "mismatches": self.mismatches,
                "mismatch_rate": self.mismatches / compared if compared else 0.0,
                "errors": dict(zip(SIDES, self.errors, strict=True)),
                "not_found": dict(zip(SIDES, self.not_found, strict=True)),
                "latency_us": {side: self.latency[i].summary_us() for i, side in enumerate(SIDES)},
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
        served, other = (mismatch.new, mismatch.old) if served_new else (mismatch.old, mismatch.new)
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
                "from": _bounded(mismatch.old),
                "to": _bounded(mismatch.new),
            }
            if mismatch.keys:
                record["keys"] = list(mismatch.keys)
            if extra:
                record.update(extra)
            self.log.write(record)

    def to_dict(self, *, min_sample: int = 100, agreement: float = 0.99) -> dict[str, Any]:
        """Every flag's evidence, by flag name."""
        return {
            key: ev.to_dict(min_sample=min_sample, agreement=agreement)
            for key, ev in sorted(self.flags.items())
        }
