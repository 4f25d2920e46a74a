"""GrowthBook's own sticky bucketing, kept in flagport's sticky store, with the real SDK."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from flagport import Flagport, Reason, User
from flagport.sticky import MemoryStore
from flagport_growthbook._sticky import ENTRY_PREFIX, StoreStickyBucketService, unit_key

DATA = Path(__file__).parent / "data" / "growthbook_sticky_bucket_cases.json"
CASES: list[list[Any]] = json.loads(DATA.read_text(encoding="utf-8"))["stickyBucket"]


def as_user(attributes: dict[str, Any]) -> User:
    rest = {k: v for k, v in attributes.items() if k != "id"}
    return User(user_id=attributes.get("id"), custom=rest)


def stored_docs(fp: Flagport) -> dict[str, dict[str, Any]]:
    """Every GrowthBook document in the client's memory store, keyed as the SDK keys them."""
    store = fp._sticky.store  # type: ignore[union-attr]
    assert isinstance(store, MemoryStore)
    docs: dict[str, dict[str, Any]] = {}
    for unit in list(store._units):
        entries = {
            k[len(ENTRY_PREFIX) :]: a.group
            for k, a in store.load(unit).items()
            if k.startswith(ENTRY_PREFIX)
        }
        if entries:
            attribute, _, value = unit.rpartition("||")
            docs[f"{attribute or 'id'}||{value}"] = entries
    return docs


def client(features: dict[str, Any], store: dict[str, Any] | None = None) -> Flagport:
    return Flagport(
        "growthbook",
        offline=True,
        bootstrap={"features": features},
        sticky=store or {"store": "memory"},
    )


def seed(fp: Flagport, docs: list[dict[str, Any]]) -> None:
    """Store documents the way the SDK saves them, through the adapter."""
    service = StoreStickyBucketService(fp._sticky)  # type: ignore[arg-type]
    for doc in docs:
        service.save_assignments(doc)
    assert fp.flush()


@pytest.mark.parametrize("case", CASES, ids=[c[0] for c in CASES])
def test_growthbooks_published_sticky_bucket_cases(case: list[Any]) -> None:
    _name, context, docs, feature, expected, docs_after = case
    fp = client(context["features"])
    seed(fp, docs)
    result = fp.get_experiment(as_user(context["attributes"]), feature)
    if expected is None:  # blocked enrolment: not in the experiment, the feature's default
        assert (result.group, result.in_experiment) == (None, False)
        assert result.reason is Reason.DEFAULT
    else:
        assert (result.group, dict(result.value)) == (expected["key"], {"value": expected["value"]})
        assert result.in_experiment is expected["inExperiment"]
        assert result.reason is (Reason.STICKY if expected["stickyBucketUsed"] else Reason.SPLIT)
    assert fp.flush()
    # The case lists the documents of this user's attributes (not another user's).
    own = {f"{k}||{v}" for k, v in context["attributes"].items()}
    mine = {key: doc for key, doc in stored_docs(fp).items() if key in own}
    assert mine == {key: doc["assignments"] for key, doc in docs_after.items()}
    fp.shutdown()


FEATURES = {
    "button_color": {
        "defaultValue": "gray",
        "rules": [
            {
                "key": "button-exp",
                "seed": "button-exp",
                "hashAttribute": "id",
                "hashVersion": 2,
                "variations": ["gray", "blue"],
                "meta": [{"key": "control"}, {"key": "blue"}],
                "weights": [0.5, 0.5],
                "coverage": 1,
            }
        ],
    }
}
USERS = [User(user_id=f"user-{i}") for i in range(1000)]


def with_rule(**changes: Any) -> dict[str, Any]:
    rule = {**FEATURES["button_color"]["rules"][0], **changes}
    return {"button_color": {**FEATURES["button_color"], "rules": [rule]}}


def test_growthbook_keeps_its_users_in_their_group_in_a_shared_store(tmp_path: Path) -> None:
    sticky = {"store": "sqlite", "path": str(tmp_path / "assignments.db")}
    with client(FEATURES, sticky) as fp:
        first = [fp.get_experiment(u, "button_color") for u in USERS]
    assert {r.reason for r in first} == {Reason.SPLIT}
    changed = with_rule(weights=[0.1, 0.9], seed="reshuffled")
    with client(changed) as fresh:
        moved = sum(
            fresh.get_experiment(u, "button_color").group != r.group
            for u, r in zip(USERS, first, strict=True)
        )
    assert moved > 200  # without the store, the new weights and seed move many users
    with client(changed, sticky) as fp:
        kept = [fp.get_experiment(u, "button_color") for u in USERS]
        assert fp.stats()["sticky"]["read_failures"] == 0
    assert [r.group for r in kept] == [r.group for r in first]
    assert {r.reason for r in kept} == {Reason.STICKY}
    # The value is the variation's current one (GrowthBook's own rule).
    assert {r.group: r.value["value"] for r in kept} == {"control": "gray", "blue": "blue"}
    # A bucket version bump reassigns; a minimum above the old version blocks them.
    with client(with_rule(seed="reshuffled", bucketVersion=1), sticky) as fp:
        bumped = [fp.get_experiment(u, "button_color") for u in USERS]
    assert {r.reason for r in bumped} == {Reason.SPLIT}
    blocked = with_rule(seed="again", bucketVersion=2, minBucketVersion=1)
    with client(blocked, sticky) as fp:
        out = [fp.get_experiment(u, "button_color") for u in USERS]
    assert {(r.group, r.reason) for r in out} == {(None, Reason.DEFAULT)}


def test_a_scope_reads_growthbooks_documents_with_flagports_one_read(tmp_path: Path) -> None:
    fp = client(FEATURES)
    user = User(user_id="u1")
    first = fp.get_experiment(user, "button_color")
    assert fp.flush()
    # The user's document lives in his own unit, beside flagport's entries.
    assert unit_key("id", "u1") == "u1"
    assert set(fp._sticky.store.load("u1")) == {ENTRY_PREFIX + "button-exp__0"}  # type: ignore[union-attr]
    with fp.scope(User(user_id="u1")) as active:
        assert ENTRY_PREFIX + "button-exp__0" in active.sticky[fp._sticky, "u1"]
        again = fp.get_experiment(User(user_id="u1"), "button_color")
    assert (again.group, again.reason) == (first.group, Reason.STICKY)


def test_sticky_bucketing_off_leaves_stickiness_to_flagport() -> None:
    fp = Flagport(
        "growthbook",
        offline=True,
        bootstrap={"features": FEATURES},
        sticky_bucketing=False,
        sticky={"store": "memory"},
    )
    first = fp.get_experiment(User(user_id="u1"), "button_color")
    assert fp.flush()
    assert set(fp._sticky.store.load("u1")) == {"button_color"}  # type: ignore[union-attr]
    assert fp.get_experiment(User(user_id="u1"), "button_color").reason is Reason.STICKY
    assert first.reason is Reason.SPLIT


def test_flagports_stickiness_serves_growthbooks_current_value_of_the_stored_group(
    tmp_path: Path,
) -> None:
    sticky = {"store": "sqlite", "path": str(tmp_path / "assignments.db")}

    def client(features: dict[str, Any], store: dict[str, Any] | None) -> Flagport:
        return Flagport(
            "growthbook",
            offline=True,
            sticky_bucketing=False,
            bootstrap={"features": features},
            sticky=store,
        )

    with client(with_rule(weights=[1.0, 0.0]), sticky) as fp:
        assert fp.get_experiment(User(user_id="u1"), "button_color").group == "control"
    # Control's variation is silver now, and the new weights send everyone to blue.
    changed = with_rule(weights=[0.0, 1.0], variations=["silver", "blue"])
    with client(changed, None) as plain:
        assert plain.get_experiment(User(user_id="u1"), "button_color").group == "blue"
    with client(changed, sticky) as fp:
        result = fp.get_experiment(User(user_id="u1"), "button_color")
    assert (result.group, result.reason, dict(result.value)) == (
        "control",
        Reason.STICKY,
        {"value": "silver"},
    )


def test_groups_growthbook_serves_from_the_store_count_as_served() -> None:
    """``stats()["sticky"]["served"]`` counts what GrowthBook serves from the store, as
    flagport's own layer counts what it serves; a blocked unit is not counted."""
    fp = client(FEATURES)
    users = USERS[:20]
    first = [fp.get_experiment(u, "button_color") for u in users]
    assert {r.reason for r in first} == {Reason.SPLIT}
    assert fp.stats()["sticky"]["served"] == 0
    assert fp.flush()
    again = [fp.get_experiment(u, "button_color") for u in users]
    assert {r.reason for r in again} == {Reason.STICKY}
    # Every accessor that lands in the experiment counts a stored group served.
    fp.check_gate(users[0], "button_color")
    fp.get_config(users[0], "button_color")
    assert fp.stats()["sticky"]["served"] == len(users) + 2
    fp.shutdown()
    blocked = client(with_rule(bucketVersion=1, minBucketVersion=1))
    seed(
        blocked,
        [{"attributeName": "id", "attributeValue": "u1", "assignments": {"button-exp__0": "blue"}}],
    )
    result = blocked.get_experiment(User(user_id="u1"), "button_color")
    assert (result.group, result.reason) == (None, Reason.DEFAULT)
    assert blocked.stats()["sticky"]["served"] == 0
    blocked.shutdown()
