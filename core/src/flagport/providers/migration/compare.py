"""Comparing two providers' answers: per user, and as group distributions.

Gates and configs are compared per user. Experiments are compared per user (the old
group mapped to the new name, and the group's value) and as distributions with a
chi-square test of homogeneity, because vendors bucket differently: two providers
that split users 50/50 with different hashes put about half of the users in
different groups while agreeing perfectly on the split. :func:`split_verdict`
tells those cases apart.

The chi-square p-value is computed here (regularized incomplete gamma function), so
the core does not depend on scipy.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

__all__ = [
    "ChiSquare",
    "Verdict",
    "chance_agreement",
    "chi_square",
    "chi_square_sf",
    "differing_keys",
    "kappa",
    "same_value",
    "split_verdict",
]

NO_GROUP = "(none)"
"""How a user outside the experiment appears in a distribution."""


def _plain(value: Any) -> Any:
    # None means "no value, use the caller's default": the same as an empty mapping.
    if value is None:
        return {}
    return value


def same_value(a: Any, b: Any) -> bool:
    """Whether two JSON-like values are equal.

    ``None`` and an empty mapping are equal (both mean "no value"); a scalar equals
    ``{"value": scalar}`` (how vendor providers wrap a scalar value); tuples and lists
    with equal items are equal (results freeze lists into tuples); numbers compare
    by value (``1 == 1.0``, as in JSON), but a top-level ``True`` is not ``1``.
    Equal values, the common case, take one C-level comparison.
    """
    if a == b:
        return type(a) is type(b) or (type(a) is not bool and type(b) is not bool)
    a, b = _plain(a), _plain(b)
    if isinstance(a, Mapping) != isinstance(b, Mapping):
        # A vendor provider serves a scalar value wrapped ({"value": v}), the local
        # provider as it is: the same answer.
        a, b = _unwrap(a), _unwrap(b)
    return _same_slow(a, b)


def _same_slow(a: Any, b: Any) -> bool:
    if type(a) is bool or type(b) is bool:
        return a is b
    if isinstance(a, Mapping) and isinstance(b, Mapping):
        return a.keys() == b.keys() and all(_same_slow(a[k], b[k]) for k in a)
    if isinstance(a, list | tuple) and isinstance(b, list | tuple):
        return len(a) == len(b) and all(_same_slow(x, y) for x, y in zip(a, b, strict=True))
    return bool(a == b)


def _unwrap(value: Any) -> Any:
    if isinstance(value, Mapping) and len(value) == 1 and "value" in value:
        return value["value"]
    return value


def differing_keys(a: Any, b: Any) -> list[str]:
    """The top-level keys whose values differ (for mismatch records); ``[]`` if not mappings."""
    a, b = _plain(a), _plain(b)
    if not isinstance(a, Mapping) or not isinstance(b, Mapping):
        return []
    keys = sorted(set(a) | set(b))
    return [k for k in keys if k not in a or k not in b or not same_value(a[k], b[k])]


# -- chi-square --------------------------------------------------------------------


def _lower_series(s: float, x: float) -> float:
    # P(s, x) by its power series; converges quickly for x < s + 1.
    term = total = 1.0 / s
    n = s
    for _ in range(10_000):
        n += 1.0
        term *= x / n
        total += term
        if abs(term) < abs(total) * 1e-15:
            break
    return total * math.exp(-x + s * math.log(x) - math.lgamma(s))


def _upper_fraction(s: float, x: float) -> float:
    # Q(s, x) by its continued fraction (modified Lentz); converges for x >= s + 1.
    tiny = 1e-300
    b = x + 1.0 - s
    c = 1.0 / tiny
    d = 1.0 / b
    h = d
    for i in range(1, 10_000):
        an = -i * (i - s)
        b += 2.0
        d = an * d + b
        d = tiny if abs(d) < tiny else d
        c = b + an / c
        c = tiny if abs(c) < tiny else c
        d = 1.0 / d
        delta = d * c
        h *= delta
        if abs(delta - 1.0) < 1e-15:
            break
    return h * math.exp(-x + s * math.log(x) - math.lgamma(s))


def chi_square_sf(statistic: float, df: int) -> float:
    """P(X >= statistic) for a chi-square variable with ``df`` degrees of freedom."""
    if df <= 0:
        return 1.0
    if statistic <= 0:
        return 1.0
    s, x = df / 2.0, statistic / 2.0
    if x < s + 1.0:
        return max(0.0, min(1.0, 1.0 - _lower_series(s, x)))
    return max(0.0, min(1.0, _upper_fraction(s, x)))


@dataclass(frozen=True, slots=True)
class ChiSquare:
    """A chi-square test of homogeneity between two group distributions.

    :ivar statistic: Pearson's chi-square statistic.
    :ivar df: degrees of freedom (groups seen on either side, minus one).
    :ivar p_value: the probability of a difference at least this large if both sides
        split users the same way; small values (below 0.01) mean the splits differ.
    """

    statistic: float
    df: int
    p_value: float

    def to_dict(self) -> dict[str, Any]:
        return {"statistic": self.statistic, "df": self.df, "p_value": self.p_value}


def chi_square(a: Mapping[str, int], b: Mapping[str, int]) -> ChiSquare:
    """Compare two distributions of counts by group (a 2 x k contingency table)."""
    groups = [g for g in sorted(set(a) | set(b)) if a.get(g, 0) + b.get(g, 0) > 0]
    total_a, total_b = sum(a.get(g, 0) for g in groups), sum(b.get(g, 0) for g in groups)
    total = total_a + total_b
    if len(groups) < 2 or total_a == 0 or total_b == 0:
        return ChiSquare(0.0, 0, 1.0)
    statistic = 0.0
    for g in groups:
        column = a.get(g, 0) + b.get(g, 0)
        for observed, row in ((a.get(g, 0), total_a), (b.get(g, 0), total_b)):
            expected = row * column / total
            statistic += (observed - expected) ** 2 / expected
    df = len(groups) - 1
    return ChiSquare(statistic, df, chi_square_sf(statistic, df))


def chance_agreement(a: Mapping[str, int], b: Mapping[str, int]) -> float:
    """Share of users two independent bucketings with these splits would agree on."""
    total_a, total_b = sum(a.values()), sum(b.values())
    if not total_a or not total_b:
        return 0.0
    return sum(a[g] / total_a * b.get(g, 0) / total_b for g in a)


# -- verdicts ------------------------------------------------------------------------


class Verdict:
    """What the evidence about a flag says (plain strings, for JSON and tables).

    ``DIFFERENT_BUCKETING`` means the same split with other users in each group:
    per-user differences are expected, not a defect of the new definitions.
    """

    INSUFFICIENT = "insufficient data"
    AGREE = "agree"
    DIFFERENT_BUCKETING = "expected: different bucketing"
    DIFFERENT_SPLIT = "mismatch: split differs"
    DIFFERENT_VALUES = "mismatch: values differ"
    MISMATCH = "mismatch"


KAPPA_INDEPENDENT = 0.5
"""Above this kappa, per-user differences are too few to be another bucketing."""


def kappa(agreement: float, chance: float) -> float:
    """Cohen's kappa: 0 when two assignments agree only by chance, 1 when identical."""
    if chance >= 1.0:
        return 1.0 if agreement >= 1.0 else 0.0
    return (agreement - chance) / (1.0 - chance)


def split_verdict(
    compared: int,
    group_mismatches: int,
    value_mismatches: int,
    test: ChiSquare,
    chance: float = 0.0,
    *,
    min_sample: int = 100,
    agreement: float = 0.99,
    alpha: float = 0.01,
) -> str:
    """Classify the evidence of an experiment (or of a gate, as a true/false split).

    Per-user group differences are *expected* when the new provider buckets with
    another hash: the split is the same (chi-square p >= ``alpha``) and users agree
    little more than chance would make them (Cohen's kappa at most
    :data:`KAPPA_INDEPENDENT`; a gate whose targeting rules agree and whose
    percentage rollout is hashed differently lands there too). They are a *real*
    mismatch when the split differs, when users in the same group get different
    values, or when only a few users differ with the same split, which is what a
    changed targeting rule looks like. This is a heuristic: check the examples.

    :param compared: evaluations compared.
    :param group_mismatches: comparisons whose (mapped) groups differ.
    :param value_mismatches: comparisons with the same group but different values.
    :param test: the chi-square test of the two distributions.
    :param chance: the agreement independent bucketings would reach
        (:func:`chance_agreement`).
    :param min_sample: fewer comparisons than this is not enough to judge.
    :param agreement: the per-user agreement that counts as agreeing.
    :param alpha: significance level of the chi-square test.
    """
    if compared < min_sample:
        return Verdict.INSUFFICIENT
    if value_mismatches > (1.0 - agreement) * compared:
        return Verdict.DIFFERENT_VALUES
    if group_mismatches <= (1.0 - agreement) * compared:
        return Verdict.AGREE
    if test.p_value < alpha:
        return Verdict.DIFFERENT_SPLIT
    if kappa(1.0 - group_mismatches / compared, chance) > KAPPA_INDEPENDENT:
        return Verdict.MISMATCH
    return Verdict.DIFFERENT_BUCKETING
