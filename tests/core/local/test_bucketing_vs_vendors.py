"""flagport's bucketing against the real vendor SDKs, offline, over 10,000 unit ids.

For every hash mode, a 50 % gate rollout and a three-group experiment defined in the
vendor's own format (``vendor_defs``) must put each unit exactly where the matching
flagport bucketer puts it: zero mismatches.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from typing import Any

import pytest
import vendor_defs as defs  # tests/support, on pytest's pythonpath

from flagport import User
from flagport.providers.local.bucketing import (
    NOT_BUCKETED,
    get_bucketer,
    growthbook_hash,
    growthbook_ranges,
    select_range,
)

pytestmark = pytest.mark.timeout(60)

N = len(defs.USER_IDS)
USERS = [User(user_id=uid) for uid in defs.USER_IDS]


def _check_split(gate: list[bool], groups: list[int]) -> None:
    """Guard against a vacuous agreement: the splits must look like 50 % and thirds."""
    assert 0.45 * N < sum(gate) < 0.55 * N
    counts = Counter(groups)
    assert set(counts) == {0, 1, 2}
    assert all(0.3 * N < count < 0.37 * N for count in counts.values())


@contextmanager
def local_flagport(mode: str) -> Iterator[Any]:
    """The whole local provider on the equivalent flags file (end to end)."""
    from flagport import Flagport

    client = Flagport(provider="local", flags=defs.flagport_flags(mode), watch=False)
    try:
        yield client
    finally:
        client.shutdown()


def test_user_ids_include_non_ascii() -> None:
    assert N == 10_000
    assert any(not uid.isascii() for uid in defs.USER_IDS)
    assert any(ord(ch) > 0xFFFF for uid in defs.USER_IDS for ch in uid)


# -- Statsig -------------------------------------------------------------------------


@pytest.fixture(scope="module")
def statsig() -> Iterator[Any]:
    client = defs.offline_statsig()
    yield client
    client.shutdown().wait(5)


def test_statsig(statsig: Any) -> None:
    from statsig_python_core import StatsigUser

    bucketer = get_bucketer("statsig")
    choose = bucketer.choose_group  # type: ignore[attr-defined]
    index = {name: i for i, name in enumerate(defs.GROUPS)}
    mismatches = Counter[str]()
    gate: list[bool] = []
    groups: list[int] = []
    with local_flagport("statsig") as local:
        for uid, person in zip(defs.USER_IDS, USERS, strict=True):
            user = StatsigUser(user_id=uid)
            passed = statsig.check_gate(user, defs.GATE)
            ours = bucketer.gate_passes(defs.GATE_SALT, defs.RULE_ID, uid, 50)
            mismatches["gate"] += passed != ours
            mismatches["local gate"] += passed != local.check_gate(person, defs.GATE)
            gate.append(ours)

            name = statsig.get_experiment(user, defs.EXPERIMENT).group_name
            group = choose(defs.EXPERIMENT_SALT, uid, defs.STATSIG_WEIGHTS, 100.0)
            mismatches["group"] += index[name] != group
            served = local.get_experiment(person, defs.EXPERIMENT).group
            mismatches["local group"] += name != served
            groups.append(group)
            # experiment_bucket is the user_bucket / 1000 the group conditions compare.
            per_mille = round(bucketer.experiment_bucket(defs.EXPERIMENT_SALT, uid) * 1000)
            mismatches["bucket"] += group != (0 if per_mille < 334 else 1 if per_mille < 667 else 2)
    assert sum(mismatches.values()) == 0, dict(mismatches)
    _check_split(gate, groups)


# -- GrowthBook ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("mode", "hash_version"),
    [("growthbook", 2), ("growthbook_v1", 1), ("growthbook_v1", None)],
    ids=["v2", "v1", "version-omitted"],
)
def test_growthbook(mode: str, hash_version: int | None) -> None:
    from growthbook import GrowthBook

    bucketer = get_bucketer(mode)  # type: ignore[arg-type]
    choose = bucketer.choose_group  # type: ignore[attr-defined]
    ns_name, ns_start, ns_end = defs.NAMESPACE
    mismatches = Counter[str]()
    gate: list[bool] = []
    groups: list[int] = []
    in_namespace = 0
    with ExitStack() as stack:
        gb = GrowthBook(features=defs.growthbook_features(hash_version))
        stack.callback(gb.destroy)
        local = stack.enter_context(local_flagport(mode))
        for uid, person in zip(defs.USER_IDS, USERS, strict=True):
            gb.set_attributes({"id": uid})
            passed = gb.is_on(defs.GATE)
            ours = bucketer.gate_passes(defs.GATE, defs.RULE_ID, uid, 50)
            mismatches["gate"] += passed != ours
            mismatches["local gate"] += passed != local.check_gate(person, defs.GATE)
            gate.append(ours)

            variation = gb.eval_feature(defs.EXPERIMENT).value
            group = choose(defs.EXPERIMENT, uid, defs.GROWTHBOOK_WEIGHTS, 100.0)
            mismatches["experiment"] += variation != group
            served = local.get_experiment(person, defs.EXPERIMENT).group
            mismatches["local experiment"] += defs.GROUPS[variation] != served
            groups.append(group)

            # Namespace and coverage: the unit must be in the namespace slice, then
            # in the covered part of its group's range.
            ns = bucketer.in_range(ns_name, uid, ns_start, ns_end)
            in_namespace += ns
            covered = choose(defs.NAMESPACED, uid, defs.GROWTHBOOK_WEIGHTS, 80.0)
            expected = covered if ns else -1
            mismatches["namespaced"] += gb.eval_feature(defs.NAMESPACED).value != expected
    assert sum(mismatches.values()) == 0, dict(mismatches)
    assert len(mismatches) == 5
    assert 0.65 * N < in_namespace < 0.75 * N
    _check_split(gate, groups)


def test_growthbook_helpers_agree_with_the_sdk_functions() -> None:
    from growthbook.core import chooseVariation, gbhash, getBucketRanges

    weights = [0.3334, 0.3333, 0.3333]
    for coverage in (1.0, 0.5):
        assert growthbook_ranges(weights, coverage) == tuple(getBucketRanges(3, coverage, weights))
    # Invalid weights fall back to equal weights, as in GrowthBook.
    assert growthbook_ranges([0.7, 0.7, 0.7]) == tuple(getBucketRanges(3, 1, [0.7, 0.7, 0.7]))
    ranges = growthbook_ranges(weights)
    for uid in defs.USER_IDS[::10]:
        for version in (1, 2):
            n = growthbook_hash("seed", uid, version)
            assert n == gbhash("seed", uid, version)
            found = select_range(n, ranges)
            assert (-1 if found is None else found) == chooseVariation(n, list(ranges))


def test_growthbook_never_buckets_an_empty_unit() -> None:
    bucketer = get_bucketer("growthbook")
    assert bucketer.experiment_bucket("seed", "") == NOT_BUCKETED
    assert bucketer.gate_passes("flag", "rule", "", 100) is False
    assert bucketer.in_range("ns", "", 0, 1) is False
    assert bucketer.choose_group("seed", "", (50, 50)) == -1  # type: ignore[attr-defined]


# -- FeatBit -------------------------------------------------------------------------


@pytest.fixture(scope="module")
def featbit() -> Iterator[Any]:
    client = defs.offline_featbit()
    yield client
    client.stop()


def test_featbit(featbit: Any) -> None:
    bucketer = get_bucketer("featbit")
    choose = bucketer.choose_group  # type: ignore[attr-defined]
    index = {name: i for i, name in enumerate(defs.GROUPS)}
    mismatches = Counter[str]()
    gate: list[bool] = []
    groups: list[int] = []
    with local_flagport("featbit") as local:
        for uid, person in zip(defs.USER_IDS, USERS, strict=True):
            user = {"key": uid, "name": uid}
            passed = featbit.variation(defs.GATE, user, None)
            ours = bucketer.gate_passes(defs.GATE, defs.RULE_ID, uid, 50)
            mismatches["gate"] += passed != ours
            mismatches["local gate"] += passed != local.check_gate(person, defs.GATE)
            gate.append(ours)

            name = featbit.variation_detail(defs.EXPERIMENT, user, {}).variation_id
            group = choose(defs.EXPERIMENT, uid, defs.FEATBIT_WEIGHTS, 100.0)
            mismatches["group"] += index[name] != group
            served = local.get_experiment(person, defs.EXPERIMENT).group
            mismatches["local group"] += name != served
            groups.append(group)
    assert sum(mismatches.values()) == 0, dict(mismatches)
    _check_split(gate, groups)


# -- flags files ---------------------------------------------------------------------


@pytest.mark.parametrize("mode", ["statsig", "growthbook", "growthbook_v1", "featbit"])
def test_flagport_flags_are_valid(mode: str) -> None:
    """The equivalent flags files stay loadable by the local provider's models."""
    from flagport.providers.local.models import FlagsFile

    flags = FlagsFile.model_validate(defs.flagport_flags(mode))
    assert flags.gates[defs.GATE].rules[0].pass_percentage == 50
    assert sum(g.weight for g in flags.experiments[defs.EXPERIMENT].groups) == pytest.approx(100)
