"""GrowthBook's sticky bucketing on imported definitions, against GrowthBook's SDK:
every experiment rule of a feature is sticky under its own key, a stored passthrough
variation sends the unit on to the next rule, and the local and ``growthbook``
providers read and write the same store entries (GrowthBook's documents), so a team
moving from one to the other keeps its users in their groups.

Each scenario runs the ``growthbook`` provider (the real SDK, offline) and the local
provider on the file ``flagport import growthbook`` writes, each on a store of its own,
through two versions of the payload: the second changes the experiments' weights, so
only the store keeps a user in his group.
"""

from __future__ import annotations

import copy
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from flagport import Flagport, Reason, User
from flagport.importers.growthbook import import_features
from flagport.sticky import Assignment

USERS = [User(user_id=f"u{i}", country="US" if i % 2 else "FR") for i in range(200)]


def rule(key: str, weights: list[float], **extra: Any) -> dict[str, Any]:
    return {
        "id": key,
        "key": key,
        "hashAttribute": "id",
        "hashVersion": 2,
        "variations": ["control", "treatment"],
        "meta": [{"key": "control"}, {"key": "treatment"}],
        "weights": weights,
        **extra,
    }


def reweighted(payload: dict[str, Any]) -> dict[str, Any]:
    """``payload`` with every experiment rule's weights reversed."""
    changed = copy.deepcopy(payload)
    for feature in changed.values():
        for found in feature["rules"]:
            if "weights" in found:
                found["weights"] = list(reversed(found["weights"]))
    return changed


def growthbook(payload: dict[str, Any], sticky: dict[str, Any]) -> Flagport:
    return Flagport("growthbook", offline=True, bootstrap={"features": payload}, sticky=sticky)


def local(payload: dict[str, Any], sticky: dict[str, Any]) -> Flagport:
    imported = import_features(payload)
    assert not imported.left_out, imported.left_out
    return Flagport("local", flags=imported.flags, sticky=sticky)


def answers(fp: Flagport, name: str) -> list[tuple[Any, ...]]:
    found = []
    for user in USERS:
        result = fp.get_experiment(user, name)
        value = result.value
        if result.provider == "growthbook" and value is not None:
            value = value["value"]  # the provider wraps a scalar variation
        found.append((result.group, value, result.in_experiment))
    assert fp.flush()
    fp.shutdown()
    return found


def both(payloads: list[dict[str, Any]], name: str, tmp_path: Path) -> list[list[Any]]:
    """The answers of each provider (its own SQLite store) for each payload in turn."""
    out = []
    for side, make in (("growthbook", growthbook), ("local", local)):
        sticky = {"store": "sqlite", "path": str(tmp_path / f"{side}.db")}
        out.append([answers(make(payload, sticky), name) for payload in payloads])
    return out


# -- gap 1: every experiment rule is sticky -----------------------------------------------
TWO_EXPERIMENTS = {
    "checkout": {
        "defaultValue": "default",
        "rules": [
            rule("exp-us", [0.2, 0.8], condition={"country": "US"}),
            rule("exp-rest", [0.7, 0.3], bucketVersion=1),
        ],
    }
}


def test_every_experiment_rule_of_a_feature_keeps_its_users_in_their_group(
    tmp_path: Path,
) -> None:
    vendor, ours = both([TWO_EXPERIMENTS, reweighted(TWO_EXPERIMENTS)], "checkout", tmp_path)
    assert ours == vendor
    # The reweighting would move users of both rules: the store keeps them.
    assert ours[1] == ours[0]


def test_a_later_experiment_rule_is_stored_under_its_own_key_and_version(
    tmp_path: Path,
) -> None:
    path = tmp_path / "a.db"
    fp = local(TWO_EXPERIMENTS, {"store": "sqlite", "path": str(path)})
    french = USERS[0]
    group = fp.get_experiment(french, "checkout").group
    assert fp.flush()
    stored = fp._sticky.store.load(str(french.user_id))  # type: ignore[union-attr]
    fp.shutdown()
    assert {k: a.group for k, a in stored.items()} == {"growthbook:exp-rest__1": group}


# -- gap 2: passthrough ---------------------------------------------------------------------
PASSTHROUGH = {
    "banner": {
        "defaultValue": "default",
        "rules": [
            {
                **rule("holdout", [0.3, 0.7]),
                "meta": [{"key": "holdout"}, {"key": "rest", "passthrough": True}],
                "variations": ["holdout", "rest"],
            },
            rule("banner-exp", [0.4, 0.6]),
        ],
    }
}


def test_a_stored_passthrough_variation_sends_the_unit_on_to_the_next_rule(
    tmp_path: Path,
) -> None:
    vendor, ours = both([PASSTHROUGH, reweighted(PASSTHROUGH)], "banner", tmp_path)
    assert ours == vendor
    assert ours[1] == ours[0]


def test_a_passthrough_variation_is_stored_as_growthbook_stores_it(tmp_path: Path) -> None:
    docs = []
    for make in (growthbook, local):
        fp = make(PASSTHROUGH, {"store": "sqlite", "path": str(tmp_path / f"{make.__name__}.db")})
        for user in USERS:
            fp.get_experiment(user, "banner")
        assert fp.flush()
        store = fp._sticky.store  # type: ignore[union-attr]
        docs.append(
            {str(u.user_id): dict(sorted(store.load(str(u.user_id)).items())) for u in USERS}
        )
        fp.shutdown()
    assert docs[0] == docs[1]
    passed = [
        u for u, entries in docs[1].items() if entries["growthbook:holdout__0"].group == "rest"
    ]
    assert passed
    assert all("growthbook:banner-exp__0" in docs[1][u] for u in passed)


# -- gap 3: one format for both providers ---------------------------------------------------
ONE_EXPERIMENT = {
    "checkout": {
        "defaultValue": "default",
        "rules": [
            rule("checkout-exp", [0.25, 0.75], bucketVersion=2, fallbackAttribute="deviceId")
        ],
    }
}


@pytest.fixture(params=["sqlite", "redis"])
def shared_store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[dict[str, Any]]:
    if request.param == "sqlite":
        yield {"store": "sqlite", "path": str(tmp_path / "shared.db")}
        return
    server = request.getfixturevalue("redis_server")
    yield {"store": "redis", "url": server.url}


@pytest.mark.parametrize(
    ("first", "then"), [(growthbook, local), (local, growthbook)], ids=["gb->local", "local->gb"]
)
def test_both_providers_keep_one_users_group_in_one_store(
    first: Any, then: Any, shared_store: dict[str, Any]
) -> None:
    """Served by one provider, then, with the weights changed, by the other on the same
    store: every user keeps the variation the first gave him."""
    before = answers(first(ONE_EXPERIMENT, shared_store), "checkout")
    after = then(reweighted(ONE_EXPERIMENT), shared_store)
    try:
        results = [after.get_experiment(user, "checkout") for user in USERS]
    finally:
        after.shutdown()
    assert [r.group for r in results] == [group for group, _, _ in before]
    assert {r.reason for r in results} == {Reason.STICKY}


def test_entries_the_local_provider_wrote_before_keep_working(tmp_path: Path) -> None:
    """The local provider's former entry (named by the experiment key, with the version
    and the lowest version ever assigned) still counts, for both providers."""
    sticky = {"store": "sqlite", "path": str(tmp_path / "old.db")}
    user = User(user_id="u1")
    for make in (local, growthbook):
        fp = make(reweighted(ONE_EXPERIMENT), sticky)
        fp._sticky.store.save([("u1", "checkout-exp", Assignment("treatment", {}, 2))])  # type: ignore[union-attr]
        result = fp.get_experiment(user, "checkout")
        fp.shutdown()
        assert (result.group, result.reason) == ("treatment", Reason.STICKY), make.__name__
        fp = make(reweighted(ONE_EXPERIMENT), sticky)
        fp._sticky.store.save([("u1", "checkout-exp", Assignment("control", {}, 2, 1))])  # type: ignore[union-attr]
        assert fp.get_experiment(user, "checkout").group == "control"
        fp.shutdown()


@pytest.mark.parametrize("make", [local, growthbook], ids=["local", "growthbook"])
@pytest.mark.parametrize(
    ("first", "served"), [(0, (None, False)), (1, ("treatment", True))], ids=["blocked", "kept"]
)
def test_a_former_entrys_lowest_version_still_blocks(
    make: Any, first: int, served: tuple[Any, bool], tmp_path: Path
) -> None:
    """A unit the former entry says was once assigned below the minimum is blocked."""
    payload = copy.deepcopy(ONE_EXPERIMENT)
    payload["checkout"]["rules"][0]["minBucketVersion"] = 1
    fp = make(payload, {"store": "sqlite", "path": str(tmp_path / "old.db")})
    former = Assignment("treatment", {}, 2, first)
    fp._sticky.store.save([("u1", "checkout-exp", former)])  # type: ignore[union-attr]
    result = fp.get_experiment(User(user_id="u1"), "checkout")
    fp.shutdown()
    assert (result.group, result.in_experiment) == served


@pytest.mark.parametrize("stage", ["from", "shadow", "ramp", "to"])
def test_a_migration_from_growthbook_to_the_imported_file_keeps_growthbooks_groups(
    stage: str, tmp_path: Path
) -> None:
    """The groups the growthbook provider stored are the groups a migration to the
    imported file serves at every stage, whichever side serves a user, though the
    weights changed in between."""
    from flagport.providers.migration import MigrationProvider

    sticky = {"store": "sqlite", "path": str(tmp_path / "shared.db")}
    before = answers(growthbook(ONE_EXPERIMENT, sticky), "checkout")
    changed = reweighted(ONE_EXPERIMENT)
    imported = import_features(changed)
    ramp = {"ramp": {"checkout": 50}} if stage == "ramp" else {}
    provider = MigrationProvider.from_options(
        **{
            "from": {"provider": "growthbook", "offline": True, "bootstrap": {"features": changed}},
            "to": {"provider": "local", "flags": imported.flags},
        },
        stage="shadow" if stage == "ramp" else stage,
        **ramp,
    )
    with Flagport(provider, sticky=sticky) as fp:
        results = [fp.get_experiment(user, "checkout") for user in USERS]
    assert [r.group for r in results] == [group for group, _, _ in before]
    assert {r.reason for r in results} == {Reason.STICKY}
    if stage == "ramp":
        assert {r.provider for r in results} == {"growthbook", "local"}
