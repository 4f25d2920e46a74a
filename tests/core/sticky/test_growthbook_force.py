"""Forced variations under GrowthBook's sticky bucketing, against GrowthBook's SDK on the
same store.

GrowthBook's SDK (``growthbook.core._run_experiment``) looks the stored bucket up, then
returns an experiment's ``force`` variation to every unit that has a stored bucket (even
outside the coverage) or that the coverage places, with ``stickyBucketUsed`` false and
before it persists anything: a forced variation is never stored and a stored bucket stays
as it was, so it counts again once the force is gone. A unit blocked by the minimum
bucket version is blocked, not forced. A feature's force *rule* decides before the
experiment rule is reached: nothing is looked up, nothing stored.

A split's ``force`` in a flags file is the experiment's ``force``; the features payload
has no way to state one (a rule with ``force`` is a force rule), so it is compared with
the SDK running the same experiment inline (``GrowthBook.run``) on the same store.
"""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest
from growthbook import Experiment, GrowthBook

from flagport import Flagport, Reason, User
from flagport.importers.growthbook import import_features
from flagport.sticky import Assignment, StickyStore
from flagport_growthbook._sticky import StoreStickyBucketService

KEY = "checkout-exp"
IDS = [f"u{i}" for i in range(200)]
ASSIGNED = IDS[:100]  # stored before the force appears; the others never were
GROUPS = ("control", "treatment")


def flags(
    force: int | None, coverage: float = 1.0, version: int = 0, minimum: int = 0
) -> dict[str, Any]:
    """The experiment as a flags file under GrowthBook's rules."""
    split: dict[str, Any] = {
        "coverage": coverage * 100,
        "variants": [{"group": g, "value": g, "weight": 50} for g in GROUPS],
    }
    if force is not None:
        split["force"] = force
    return {
        "hash": "growthbook",
        "experiments": {
            "checkout": {
                "unit": "$growthbook.id",
                "sticky_rules": "growthbook",
                "sticky_key": KEY,
                "bucket_version": version,
                "min_bucket_version": minimum,
                "default": "default",
                "rules": [{"id": "exp", "seed": KEY, "outside": "next", "split": split}],
            }
        },
    }


def experiment(
    force: int | None, coverage: float = 1.0, version: int = 0, minimum: int = 0
) -> Experiment[Any]:
    """The same experiment for GrowthBook's SDK."""
    return Experiment(
        key=KEY,
        variations=list(GROUPS),
        meta=[{"key": g} for g in GROUPS],
        weights=[0.5, 0.5],
        hashVersion=2,
        coverage=coverage,
        force=force,
        bucketVersion=version,
        minBucketVersion=minimum,
    )


Answer = tuple[str | None, bool, bool]  # group (None: not in), in experiment, from the store


def sdk(service: StoreStickyBucketService, uid: str, exp: Experiment[Any]) -> Answer:
    gb = GrowthBook(
        attributes={"id": uid},
        sticky_bucket_service=service,
        sticky_bucket_identifier_attributes=["id"],
    )
    gb.refresh_sticky_buckets(force=True)  # the SDK loads documents on attribute changes only
    result = gb.run(exp)
    # A blocked unit is not in, with stickyBucketUsed: flagport's answer for it is DEFAULT
    # (as the growthbook provider reports it).
    inside = result.inExperiment
    return (result.key if inside else None, inside, inside and result.stickyBucketUsed)


def local(fp: Flagport, uid: str) -> Answer:
    result = fp.get_experiment(User(user_id=uid), "checkout")
    return result.group, result.in_experiment, result.reason is Reason.STICKY


def snapshot(store: StickyStore) -> dict[str, dict[str, Assignment]]:
    return {uid: store.load(uid) for uid in IDS}


def both(
    sticky: dict[str, Any], file: dict[str, Any], exp: Experiment[Any], ids: list[str] = IDS
) -> list[Answer]:
    """Each user's answer from GrowthBook's SDK and from the local provider, one after
    the other on the same store (each flushed before the other reads: a user the SDK
    assigns afresh would be read back as stored, so ``ids`` are users whose answers
    store nothing new)."""
    holder = Flagport("local", flags=file, sticky=sticky)
    fp = Flagport("local", flags=file, sticky=sticky)
    assert holder._sticky is not None
    service = StoreStickyBucketService(holder._sticky)
    found: list[Answer] = []
    try:
        for uid in ids:
            vendor = sdk(service, uid, exp)
            assert holder.flush()
            ours = local(fp, uid)
            assert fp.flush()
            assert ours == vendor, uid
            found.append(ours)
    finally:
        holder.shutdown()
        fp.shutdown()
    return found


@pytest.fixture
def assigned(tmp_path: Path) -> tuple[dict[str, Any], StickyStore]:
    """A SQLite store where GrowthBook's SDK assigned the first 100 users, unforced."""
    sticky = {"store": "sqlite", "path": str(tmp_path / "assignments.db")}
    holder = Flagport("local", flags=flags(None), sticky=sticky)
    assert holder._sticky is not None
    service = StoreStickyBucketService(holder._sticky)
    for uid in ASSIGNED:
        sdk(service, uid, experiment(None))
    assert holder.flush()
    store = holder._sticky.store
    holder.shutdown()
    return sticky, store


def test_a_forced_variation_is_served_to_stored_units_and_never_stored(
    assigned: tuple[dict[str, Any], StickyStore],
) -> None:
    sticky, store = assigned
    before = snapshot(store)
    assert all(before[uid] for uid in ASSIGNED)
    # Forced, with the coverage halved: every stored unit is forced, a unit never
    # assigned only where the coverage places it.
    forced = both(sticky, flags(1, coverage=0.5), experiment(1, coverage=0.5))
    assert all(answer == ("treatment", True, False) for answer in forced[: len(ASSIGNED)])
    unassigned = forced[len(ASSIGNED) :]
    assert set(unassigned) == {("treatment", True, False), (None, False, False)}
    assert snapshot(store) == before  # nothing stored, nothing replaced

    # The force removed: each stored unit is back in his stored group.
    after = both(sticky, flags(None, coverage=0.5), experiment(None, coverage=0.5), ASSIGNED)
    stored_groups = [before[uid][f"growthbook:{KEY}__0"].group for uid in ASSIGNED]
    assert after == [(g, True, True) for g in stored_groups]
    assert set(stored_groups) == set(GROUPS)  # some were not in the forced variant


def test_a_unit_blocked_by_the_minimum_version_is_not_forced(
    assigned: tuple[dict[str, Any], StickyStore],
) -> None:
    sticky, store = assigned
    before = snapshot(store)
    answers = both(sticky, flags(1, version=1, minimum=1), experiment(1, version=1, minimum=1))
    assert answers[: len(ASSIGNED)] == [(None, False, False)] * len(ASSIGNED)
    assert all(answer == ("treatment", True, False) for answer in answers[len(ASSIGNED) :])
    assert snapshot(store) == before


def test_a_forced_passthrough_variant_sends_a_stored_unit_on_to_the_next_rule() -> None:
    """(flagport's rules: GrowthBook goes on to the next rule on a passthrough variation;
    an inline experiment has no next rule to compare with.)"""
    file = flags(1)
    exp = file["experiments"]["checkout"]
    exp["rules"][0]["split"]["variants"][1]["passthrough"] = True
    exp["rules"].append({"id": "after", "value": "after"})
    fp = Flagport("local", flags=file, sticky={"store": "memory"})
    assert fp._sticky is not None
    fp._sticky.store.save([("u1", f"growthbook:{KEY}__0", Assignment("control", {}, 0))])
    result = fp.get_experiment(User(user_id="u1"), "checkout")
    assert fp.flush()
    entries = fp._sticky.store.load("u1")
    fp.shutdown()
    assert (result.value, result.rule_id) == ("after", "after")
    assert result.reason is Reason.TARGETING_MATCH
    assert {k: a.group for k, a in entries.items()} == {f"growthbook:{KEY}__0": "control"}


# -- a force rule before the experiment rule: the growthbook provider and the imported file
def features(force_rule: dict[str, Any] | None) -> dict[str, Any]:
    rules: list[dict[str, Any]] = [
        {
            "id": "exp",
            "key": KEY,
            "hashAttribute": "id",
            "hashVersion": 2,
            "variations": list(GROUPS),
            "meta": [{"key": g} for g in GROUPS],
            "weights": [0.5, 0.5],
        }
    ]
    if force_rule is not None:
        rules.insert(0, force_rule)
    return {"checkout": {"defaultValue": "default", "rules": rules}}


FORCE_RULES = {
    "condition": {"id": "us", "condition": {"country": "US"}, "force": "forced"},
    "coverage": {"id": "half", "force": "forced", "coverage": 0.5, "hashAttribute": "id"},
}
USERS = [User(user_id=uid, country="US" if i % 2 else "FR") for i, uid in enumerate(IDS)]


def provider(kind: str, payload: dict[str, Any], sticky: dict[str, Any]) -> Flagport:
    if kind == "growthbook":
        return Flagport("growthbook", offline=True, bootstrap={"features": payload}, sticky=sticky)
    imported = import_features(copy.deepcopy(payload))
    assert not imported.left_out, imported.left_out
    return Flagport("local", flags=imported.flags, sticky=sticky)


@pytest.mark.parametrize("rule", FORCE_RULES.values(), ids=FORCE_RULES.keys())
def test_a_force_rule_before_the_experiment_stores_nothing_and_keeps_stored_buckets(
    rule: dict[str, Any], tmp_path: Path
) -> None:
    """Through the growthbook provider (GrowthBook's SDK with its own sticky bucketing)
    and the imported file, each on its own store: the first 100 users assigned, then a
    force rule appears (every user evaluated), then it goes again."""
    runs = {}
    for kind in ("growthbook", "local"):
        sticky = {"store": "sqlite", "path": str(tmp_path / f"{kind}.db")}
        found = []
        for payload, users in (
            (features(None), USERS[: len(ASSIGNED)]),
            (features(rule), USERS),
            (features(None), USERS[: len(ASSIGNED)]),
        ):
            fp = provider(kind, payload, sticky)
            assert fp._sticky is not None
            answers = [fp.get_experiment(user, "checkout") for user in users]
            assert fp.flush()
            found.append(([(r.group, r.reason is Reason.STICKY) for r in answers],
                          [r.value for r in answers], snapshot(fp._sticky.store)))  # fmt: skip
            fp.shutdown()
        runs[kind] = found
    vendor, ours = runs["growthbook"], runs["local"]
    for (groups, _, stored), (their_groups, _, their_stored) in zip(ours, vendor, strict=True):
        assert groups == their_groups
        assert stored == their_stored
    (first, _, stored), (during, values, during_stored), (again, _, _) = ours
    forced = [i for i, value in enumerate(values) if value == "forced"]
    assert 0 < len(forced) < len(USERS)
    assert all(during[i] == (None, False) for i in forced)
    assert during_stored == {
        **stored,
        **{IDS[i]: during_stored[IDS[i]] for i in range(len(ASSIGNED), len(IDS))},
    }
    assert all(not during_stored[IDS[i]] for i in forced if i >= len(ASSIGNED))
    assert again == [(group, True) for group, _ in first]
