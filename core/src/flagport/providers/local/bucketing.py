"""Deterministic bucketing for the local evaluator, one hash algorithm per vendor.

Each mode reproduces a vendor SDK's own arithmetic bit for bit (checked against
the real SDKs over 10,000 ids in ``tests/core/local/test_bucketing_vs_vendors.py``),
so a definition moved from that vendor keeps every unit in the same group. What
differs between modes is which flags-file fields feed the hash:

``statsig`` (the default)
    ``u64(s)`` is the first 8 bytes of SHA-256 of ``s`` (UTF-8), big-endian.

    - Gate / config rule ``pass_percentage``: passes iff
      ``u64(f"{flag_salt}.{rule_salt}.{unit}") % 10000 < pass_percentage * 100``
      (0 and 100 decided without hashing). ``flag_salt`` is the gate's ``salt`` (the
      Statsig gate's ``salt`` field in its definition, *not* its name) and
      ``rule_salt`` the rule's ``salt`` (Statsig's rule ``salt``, else its rule id).
    - Experiment: ``bucket = u64(f"{salt}.{unit}") % 1000``, with ``salt`` the
      experiment's ``salt`` (the Statsig experiment salt, the one in its
      ``user_bucket`` conditions). Groups are consecutive slices in per-mille, so
      weights ``33.4 / 33.3 / 33.3`` are Statsig's ``bucket < 334 / 667 / 1000``.
    - Namespace / layer range ``[start, end)``: ``u64(f"{salt}.{unit}") % 1000``
      with ``salt`` the namespace name.

``growthbook`` (hash v2) and ``growthbook_v1``
    ``fnv1a32`` is FNV-1a 32 over UTF-16 code units (JavaScript's ``charCodeAt``).
    v2: ``n = (fnv1a32(str(fnv1a32(seed + unit))) % 10000) / 10000``;
    v1: ``n = (fnv1a32(unit + seed) % 1000) / 1000``. GrowthBook rules that omit
    ``hashVersion`` use v1. An empty unit is never included.

    - Gate rule ``pass_percentage`` = GrowthBook rollout ``coverage * 100``; the seed
      is ``flag_salt``, i.e. the gate's ``salt`` (default: its name), GrowthBook's
      ``seed`` (default: the feature key). ``rule_salt`` is not used: GrowthBook
      rules hash with one seed per rule, which is the feature key unless set, so a
      rule with its own seed needs the gate's ``salt`` set to that seed.
    - Experiment: seed = the experiment's ``salt`` (GrowthBook ``seed``, default the
      experiment key); group weights in percent are GrowthBook's ``weights`` times
      100 and ``allocation`` its ``coverage`` times 100. Ranges are GrowthBook's:
      ``[start_i, start_i + coverage * w_i)`` with ``start_i`` the sum of the weights
      before ``i``, equal weights when the weights are invalid.
    - Namespace ``[start, end)``: GrowthBook's ``hash("__" + namespace, unit, v1)``,
      whatever the mode's version, as GrowthBook does.

``featbit``
    ``p = abs(int32_le_signed(MD5(flag_key + unit)[0:4]) / -2147483648)``, in
    ``[0, 1]``; a rollout ``[lo, hi)`` holds the unit iff ``lo <= p < hi``, and
    ``[0, 1]`` holds everyone (even ``p == 1``).

    - Gate rule: passes iff ``p(flag_salt + unit) < pass_percentage / 100`` (100 passes
      everyone); ``flag_salt`` is the gate's ``salt`` = the FeatBit flag key.
      FeatBit has no per-rule salt, so ``rule_salt`` is not used and every rule of a
      flag sees the same ``p``, as in FeatBit.
    - Experiment: ``salt`` = the FeatBit flag key; group weights in percent are the
      widths of FeatBit's rollouts times 100, in order.
    - Namespace ``[start, end)``: ``p(salt + unit)`` with ``salt`` the namespace name.

Every bucketer also offers ``choose_group(salt, unit, weights, allocation)`` (the
group index, ``-1`` outside the allocation) which fixes group boundaries in the
vendor's own arithmetic, and ``gate_bucket(flag_salt, rule_salt, unit)`` (the
position a pass percentage is compared with, for ``flagport explain``).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from hashlib import md5, sha256
from math import isfinite
from typing import Literal, Protocol, TypeVar

from flagport._memos import memoized

__all__ = [
    "NOT_BUCKETED",
    "Bucketer",
    "FeatBitBucketer",
    "GrowthBookBucketer",
    "HashMode",
    "StatsigBucketer",
    "featbit_percentage",
    "fnv1a32",
    "get_bucketer",
    "growthbook_hash",
    "growthbook_ranges",
    "select_range",
    "statsig_u64",
    "utf8",
]

HashMode = Literal["statsig", "growthbook", "growthbook_v1", "featbit"]

NOT_BUCKETED = -1.0
"""What :meth:`Bucketer.experiment_bucket` returns for a unit the mode never buckets
(an empty unit under GrowthBook hashing); no range contains it."""

Range = tuple[float, float]
_Bound = TypeVar("_Bound", int, float)


class Bucketer(Protocol):
    """The hashing side of one algorithm."""

    def gate_passes(
        self, flag_salt: str, rule_salt: str, unit: str, pass_percentage: float
    ) -> bool:
        """Whether ``unit`` falls inside a rule's pass percentage (0-100)."""
        ...

    def experiment_bucket(self, salt: str, unit: str) -> float:
        """The unit's position in ``[0, 1)`` for an experiment (see the module doc)."""
        ...

    def in_range(self, salt: str, unit: str, start: float, end: float) -> bool:
        """Whether the unit's position for ``salt`` lies in ``[start, end)``."""
        ...


def select_range(position: float, ranges: Sequence[Range]) -> int | None:
    """Return the index of the first range ``[start, end)`` holding ``position``.

    A range of exactly ``(0, 1)`` holds every position, as FeatBit's full rollout does.

    :param position: a bucket, e.g. from :meth:`Bucketer.experiment_bucket`.
    :param ranges: ``(start, end)`` pairs, e.g. from :func:`growthbook_ranges`.
    :returns: the index, or ``None`` when no range holds the position.
    """
    for index, (start, end) in enumerate(ranges):
        if start <= position < end or (start == 0 and end == 1 and position >= 0):
            return index
    return None


def _fractions(percents: Sequence[float]) -> list[float]:
    # Percent -> fraction as the vendor's payload would spell it: 33.34 / 100 is
    # 0.33340000000000003, one ulp away from the 0.3334 a GrowthBook payload holds,
    # and that ulp moves the units hashed exactly onto a boundary.
    return [round(p / 100, 10) for p in percents]


def growthbook_ranges(weights: Sequence[float], coverage: float = 1.0) -> tuple[Range, ...]:
    """GrowthBook's bucket ranges (``getBucketRanges``) for fractional weights.

    :param weights: one weight per group as fractions summing to 1; a list that is
        not one finite non-negative number per group summing to 0.99-1.01 is
        replaced by equal weights, as GrowthBook does.
    :param coverage: the fraction of units in the experiment, clamped to [0, 1].
    :returns: ``[start_i, start_i + coverage * w_i)`` for each group.
    """
    count = len(weights)
    coverage = min(max(coverage, 0.0), 1.0)
    valid = all(isfinite(w) and w >= 0 for w in weights) and 0.99 <= sum(weights) <= 1.01
    used = list(weights) if valid else [1 / count] * count
    ranges: list[Range] = []
    cumulative = 0.0
    for weight in used:
        start = cumulative
        cumulative += weight
        ranges.append((start, start + coverage * weight))
    return tuple(ranges)


def utf8(text: str) -> bytes:
    """``text`` in UTF-8, a lone surrogate as U+FFFD, as JavaScript's SDKs encode it.

    A unit can hold a lone surrogate (JSON's ``"\\ud800"`` decodes to one), which UTF-8
    cannot encode: hashed as is, it failed every evaluation for that user.
    """
    try:
        return text.encode()
    except UnicodeEncodeError:
        return text.encode("utf-16", "surrogatepass").decode("utf-16", "replace").encode()


# -- Statsig -------------------------------------------------------------------------


def statsig_u64(text: str) -> int:
    """The first 8 bytes of SHA-256 of ``text`` (UTF-8), read big-endian."""
    return int.from_bytes(sha256(utf8(text)).digest()[:8], "big")


def _slices(
    weights: Sequence[float], allocation: float, bound: Callable[[float], _Bound]
) -> tuple[tuple[_Bound, _Bound], ...]:
    """Each group's slice, from the running total of the weights before it (percent)
    to that plus its weight times the allocation, each end converted by ``bound``."""
    slices = []
    cumulative = 0.0
    for weight in weights:
        slices.append((bound(cumulative), bound(cumulative + weight * allocation / 100)))
        cumulative += weight
    return tuple(slices)


@memoized(256)
def _basis_point_slices(
    weights: tuple[float, ...], allocation: float
) -> tuple[tuple[int, int], ...]:
    # Integers, so a per-mille bucket compares exactly: 0.3 + 14.3 percent must be
    # 1460 basis points, not 1460.0000000000002.
    return _slices(weights, allocation, lambda percent: round(percent * 100))


class StatsigBucketer:
    """Statsig's SHA-256 bucketing (see the module docstring)."""

    __slots__ = ()

    def gate_passes(
        self, flag_salt: str, rule_salt: str, unit: str, pass_percentage: float
    ) -> bool:
        """Statsig's ``passPercentage`` test: ``u64 % 10000 < pass_percentage * 100``."""
        if pass_percentage >= 100:
            return True
        if pass_percentage <= 0:
            return False
        digest = sha256(utf8(f"{flag_salt}.{rule_salt}.{unit}")).digest()
        return int.from_bytes(digest[:8], "big") % 10000 < pass_percentage * 100

    def gate_bucket(self, flag_salt: str, rule_salt: str, unit: str) -> float:
        """The position compared with ``pass_percentage / 100``, in ``[0, 1)``.

        For display: :meth:`gate_passes` compares in Statsig's own units
        (``bucket * 10000 < pass_percentage * 100``), which decides at the boundary.
        """
        return statsig_u64(f"{flag_salt}.{rule_salt}.{unit}") % 10000 / 10000

    def experiment_bucket(self, salt: str, unit: str) -> float:
        """Statsig's ``user_bucket``: ``(u64(f"{salt}.{unit}") % 1000) / 1000``."""
        return statsig_u64(f"{salt}.{unit}") % 1000 / 1000

    def in_range(self, salt: str, unit: str, start: float, end: float) -> bool:
        """Whether the ``user_bucket`` for ``salt`` lies in ``[start, end)``."""
        basis_points = statsig_u64(f"{salt}.{unit}") % 1000 * 10
        return round(start * 10000) <= basis_points < round(end * 10000)

    def choose_group(
        self, salt: str, unit: str, weights: Sequence[float], allocation: float = 100.0
    ) -> int:
        """The group for ``unit``: consecutive per-mille slices by weight.

        :param weights: group weights in percent, summing to 100.
        :param allocation: percent of each slice in the experiment (the start of
            each slice is kept, so raising it never moves an assigned unit).
        :returns: the group index, or ``-1`` outside the allocation.
        """
        basis_points = statsig_u64(f"{salt}.{unit}") % 1000 * 10
        for index, (start, end) in enumerate(_basis_point_slices(tuple(weights), allocation)):
            if start <= basis_points < end:
                return index
        return -1


# -- GrowthBook ----------------------------------------------------------------------


def fnv1a32(text: str) -> int:
    """FNV-1a 32 over the UTF-16 code units of ``text``, as GrowthBook's SDKs hash."""
    value = 0x811C9DC5
    if text.isascii():
        units: Sequence[int] = text.encode()
    else:
        data = text.encode("utf-16-le", "surrogatepass")
        units = [data[i] | data[i + 1] << 8 for i in range(0, len(data), 2)]
    for unit in units:
        value = ((value ^ unit) * 0x01000193) & 0xFFFFFFFF
    return value


def growthbook_hash(seed: str, unit: str, version: int = 2) -> float:
    """GrowthBook's ``hash(seed, value, version)``, in ``[0, 1)``.

    :param version: 2 (``(fnv(str(fnv(seed + unit))) % 10000) / 10000``) or 1
        (``(fnv(unit + seed) % 1000) / 1000``).
    """
    if version == 2:
        return fnv1a32(str(fnv1a32(seed + unit))) % 10000 / 10000
    return fnv1a32(unit + seed) % 1000 / 1000


@memoized(256)
def _growthbook_group_ranges(weights: tuple[float, ...], allocation: float) -> tuple[Range, ...]:
    return growthbook_ranges(_fractions(weights), round(allocation / 100, 10))


class GrowthBookBucketer:
    """GrowthBook's FNV-1a bucketing, hash v2 or v1 (see the module docstring)."""

    __slots__ = ("version",)

    def __init__(self, version: int = 2) -> None:
        self.version = version

    def gate_passes(
        self, flag_salt: str, rule_salt: str, unit: str, pass_percentage: float
    ) -> bool:
        """GrowthBook's rollout: ``hash(flag_salt, unit) < coverage``."""
        if pass_percentage <= 0 or not unit:
            return False
        return growthbook_hash(flag_salt, unit, self.version) < round(pass_percentage / 100, 10)

    def gate_bucket(self, flag_salt: str, rule_salt: str, unit: str) -> float:
        """The position compared with ``pass_percentage / 100``."""
        return growthbook_hash(flag_salt, unit, self.version) if unit else NOT_BUCKETED

    def experiment_bucket(self, salt: str, unit: str) -> float:
        """GrowthBook's ``hash(seed=salt, unit)``; :data:`NOT_BUCKETED` for ``""``."""
        return growthbook_hash(salt, unit, self.version) if unit else NOT_BUCKETED

    def in_range(self, salt: str, unit: str, start: float, end: float) -> bool:
        """GrowthBook's namespace test: ``hash("__" + salt, unit, 1)`` in ``[start, end)``."""
        return bool(unit) and start <= growthbook_hash("__" + salt, unit, 1) < end

    def choose_group(
        self, salt: str, unit: str, weights: Sequence[float], allocation: float = 100.0
    ) -> int:
        """The variation GrowthBook would assign (``chooseVariation``).

        :param weights: group weights in percent (GrowthBook's ``weights`` x 100).
        :param allocation: GrowthBook's ``coverage`` x 100.
        :returns: the group index, or ``-1`` when the unit is not in the experiment.
        """
        if not unit:
            return -1
        position = growthbook_hash(salt, unit, self.version)
        for index, (start, end) in enumerate(_growthbook_group_ranges(tuple(weights), allocation)):
            if start <= position < end:
                return index
        return -1


# -- FeatBit -------------------------------------------------------------------------


def featbit_percentage(key: str) -> float:
    """FeatBit's position for ``key`` (flag key + unit): ``abs(int32 / -2**31)``, in [0, 1]."""
    return abs(int.from_bytes(md5(utf8(key)).digest()[:4], "little", signed=True) / -2147483648)


@memoized(256)
def _featbit_rollouts(weights: tuple[float, ...], allocation: float) -> tuple[Range, ...]:
    return _slices(weights, allocation, lambda percent: round(percent / 100, 10))


class FeatBitBucketer:
    """FeatBit's MD5 bucketing (see the module docstring)."""

    __slots__ = ()

    def gate_passes(
        self, flag_salt: str, rule_salt: str, unit: str, pass_percentage: float
    ) -> bool:
        """FeatBit's rollout ``[0, pass_percentage / 100)`` (``[0, 1]`` holds everyone)."""
        if pass_percentage >= 100:
            return True
        return featbit_percentage(flag_salt + unit) < round(pass_percentage / 100, 10)

    def gate_bucket(self, flag_salt: str, rule_salt: str, unit: str) -> float:
        """The position compared with ``pass_percentage / 100``, in ``[0, 1]``."""
        return featbit_percentage(flag_salt + unit)

    def experiment_bucket(self, salt: str, unit: str) -> float:
        """FeatBit's ``p(salt + unit)``; exactly 1.0 for one unit in 2**32."""
        return featbit_percentage(salt + unit)

    def in_range(self, salt: str, unit: str, start: float, end: float) -> bool:
        """Whether ``p(salt + unit)`` lies in ``[start, end)`` (``[0, 1]`` always does)."""
        if start == 0 and end == 1:
            return True
        return start <= featbit_percentage(salt + unit) < end

    def choose_group(
        self, salt: str, unit: str, weights: Sequence[float], allocation: float = 100.0
    ) -> int:
        """The first FeatBit rollout holding the unit.

        :param weights: the widths of FeatBit's rollouts in percent, in order.
        :param allocation: percent of each rollout kept (100 for FeatBit's own).
        :returns: the group index, or ``-1`` outside the allocation.
        """
        position = featbit_percentage(salt + unit)
        found = select_range(position, _featbit_rollouts(tuple(weights), allocation))
        return -1 if found is None else found


_BUCKETERS: dict[str, Bucketer] = {
    "statsig": StatsigBucketer(),
    "growthbook": GrowthBookBucketer(2),
    "growthbook_v1": GrowthBookBucketer(1),
    "featbit": FeatBitBucketer(),
}


def get_bucketer(mode: HashMode) -> Bucketer:
    """Return the (stateless, shared) bucketer of a hash mode.

    :raises ValueError: ``mode`` is not one of ``statsig``, ``growthbook``,
        ``growthbook_v1``, ``featbit``.
    """
    try:
        return _BUCKETERS[mode]
    except KeyError:
        raise ValueError(
            f"unknown hash mode {mode!r}; use one of {', '.join(sorted(_BUCKETERS))}"
        ) from None
