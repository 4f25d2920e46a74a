"""A live experiment moves between Statsig (the real SDK, offline) and a flags file
imported from GrowthBook, through a migration with a sticky store: every user keeps his
group, whichever side assigned him.

The old side's groups are kept in the migration's entry (named by the flag, in the new
side's group names); the imported file's side buckets by GrowthBook's rules on
GrowthBook's documents. Each side finds the assignment the other stored.
"""

from __future__ import annotations

import copy
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from flagport import Flagport, Reason, User
from flagport.importers.growthbook import import_features
from flagport.providers.migration import MigrationProvider
from flagport.sticky import Assignment
from flagport_statsig.testing import scenario_specs

USERS = [User(user_id=f"user-{i}", country="US") for i in range(300)]
STATSIG_GROUPS = ("control", "blue", "green")
GB_GROUPS = ("gb_control", "gb_blue", "gb_green")
TO_GB = dict(zip(STATSIG_GROUPS, GB_GROUPS, strict=True))
TO_STATSIG = {new: old for old, new in TO_GB.items()}
FLAG = "button_color"


def payload(key: str = "button-color-exp", **extra: Any) -> dict[str, Any]:
    """GrowthBook's copy of Statsig's ``button_color``: its own seed, its own names."""
    return {
        FLAG: {
            "defaultValue": "gray",
            "rules": [
                {
                    "id": "exp",
                    "key": key,
                    "hashAttribute": "id",
                    "hashVersion": 2,
                    "variations": ["gray", "blue", "green"],
                    "meta": [{"key": name} for name in GB_GROUPS],
                    "weights": [1 / 3, 1 / 3, 1 / 3],
                    **extra,
                }
            ],
        }
    }


def imported(features: dict[str, Any]) -> dict[str, Any]:
    found = import_features(features)
    assert not found.left_out, found.left_out
    return {"provider": "local", "flags": found.flags}


STATSIG = {"provider": "statsig", "offline": True, "bootstrap": scenario_specs()}


@pytest.fixture(params=["memory", "sqlite", "redis"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[dict[str, Any]]:
    if request.param == "memory":
        yield {"store": "memory"}
    elif request.param == "sqlite":
        yield {"store": "sqlite", "path": str(tmp_path / "assignments.db")}
    else:
        yield {"store": "redis", "url": request.getfixturevalue("redis_server").url}


def migration(old: dict[str, Any], new: dict[str, Any], **opts: Any) -> MigrationProvider:
    provider = MigrationProvider.from_options(**{"from": old, "to": new}, **opts)
    assert isinstance(provider, MigrationProvider)
    return provider


def served(fp: Flagport) -> list[tuple[str | None, str | None, Reason]]:
    found = [(r.group, r.provider, r.reason) for r in (fp.get_experiment(u, FLAG) for u in USERS)]
    assert fp.flush()
    return found


def move(provider: MigrationProvider, how: str) -> None:
    """Move the flag to the new side: its stage, or a ramp to 100 %."""
    if how == "stage":
        provider.set_stage(FLAG, "to")
    else:
        provider.set_ramp(FLAG, 100)


# -- Statsig -> imported GrowthBook file --------------------------------------------------
@pytest.mark.parametrize("how", ["stage", "ramp"])
@pytest.mark.parametrize(
    "features",
    [payload(), payload(key=FLAG, bucketVersion=2, minBucketVersion=1)],
    ids=["own-key", "key-is-the-flag"],
)
def test_statsigs_groups_are_the_groups_the_imported_file_serves(
    how: str, features: dict[str, Any], store: dict[str, Any]
) -> None:
    """Assigned while Statsig serves, then moved to the imported file: every user keeps
    his group, named as GrowthBook names it (an experiment key equal to the flag's name,
    with a minimum bucket version, neither mistakes the migration's entry for an old
    GrowthBook assignment nor blocks the user)."""
    provider = migration(STATSIG, imported(features), stage="shadow", group_map={FLAG: TO_GB})
    with Flagport(provider, sticky=store) as fp:
        on_statsig = served(fp)
        move(provider, how)
        on_imported = served(fp)
    assert {p for _, p, _ in on_statsig} == {"statsig"}
    assert {g for g, _, _ in on_statsig} == set(STATSIG_GROUPS)
    assert [g for g, _, _ in on_imported] == [TO_GB[g] for g, _, _ in on_statsig]  # type: ignore[index]
    assert {(p, r) for _, p, r in on_imported} == {("local", Reason.STICKY)}


def test_without_the_store_the_imported_file_reshuffles_statsigs_users() -> None:
    """What the store prevents: GrowthBook's hash puts most users in another group."""
    provider = migration(STATSIG, imported(payload()), stage="from", group_map={FLAG: TO_GB})
    with Flagport(provider) as fp:
        on_statsig = served(fp)
        provider.set_stage(FLAG, "to")
        fresh = served(fp)
    moved = sum(TO_GB[a] != b for (a, _, _), (b, _, _) in zip(on_statsig, fresh, strict=True))  # type: ignore[index]
    assert moved > len(USERS) // 3


def test_the_imported_file_stores_the_group_it_kept_in_growthbooks_format(tmp_path: Path) -> None:
    """The group kept from the migration's entry is then GrowthBook's own assignment (a
    later move to the growthbook provider, or a weights change, keeps it)."""
    sticky = {"store": "sqlite", "path": str(tmp_path / "a.db")}
    provider = migration(STATSIG, imported(payload()), stage="from", group_map={FLAG: TO_GB})
    with Flagport(provider, sticky=sticky) as fp:
        on_statsig = served(fp)
        provider.set_stage(FLAG, "to")
        served(fp)
        assert fp._sticky is not None
        entries = [fp._sticky.store.load(str(user.user_id)) for user in USERS]
    for (group, _, _), stored in zip(on_statsig, entries, strict=True):
        renamed = TO_GB[str(group)]
        assert {k: a.group for k, a in stored.items()} == {
            FLAG: renamed,
            "growthbook:button-color-exp__0": renamed,
        }


def test_a_bucket_version_raised_on_the_imported_side_reassigns(tmp_path: Path) -> None:
    """The migration's group stands for a split's first assignment only: once the split
    stored one, GrowthBook's rules decide (a raised bucket version reassigns)."""
    sticky = {"store": "sqlite", "path": str(tmp_path / "a.db")}
    for version in (0, 1):
        provider = migration(
            STATSIG, imported(payload(bucketVersion=version)), stage="from", group_map={FLAG: TO_GB}
        )
        with Flagport(provider, sticky=sticky) as fp:
            before = served(fp)
            provider.set_stage(FLAG, "to")
            after = served(fp)
        if version == 0:
            assert [g for g, _, _ in after] == [TO_GB[g] for g, _, _ in before]  # type: ignore[index]
    assert {r for _, _, r in after} == {Reason.SPLIT}


# -- the imported file's assignments back on Statsig ----------------------------------------
@pytest.mark.parametrize("how", ["stage", "ramp"])
def test_the_imported_files_groups_are_the_groups_statsig_serves(
    how: str, store: dict[str, Any]
) -> None:
    """The reverse move (imported file -> Statsig): GrowthBook's documents the imported
    side stored are the groups Statsig serves, renamed by the group map."""
    provider = migration(imported(payload()), STATSIG, stage="shadow", group_map={FLAG: TO_STATSIG})
    with Flagport(provider, sticky=store) as fp:
        on_imported = served(fp)
        move(provider, how)
        on_statsig = served(fp)
    assert {p for _, p, _ in on_imported} == {"local"}
    assert [g for g, _, _ in on_statsig] == [TO_STATSIG[g] for g, _, _ in on_imported]  # type: ignore[index]
    assert {(p, r) for _, p, r in on_statsig} == {("statsig", Reason.STICKY)}


@pytest.mark.parametrize("imported_is", ["new", "old"])
def test_users_first_served_by_the_new_side_keep_their_group_on_a_ramp_back(
    imported_is: str, store: dict[str, Any]
) -> None:
    """Ramped to 100 % then back to 0 %: the users the new side assigned keep their group
    on the old side, named as the old side names it, whichever side is the imported
    file."""
    if imported_is == "new":
        old, new, renames = STATSIG, imported(payload()), TO_GB
    else:
        old, new, renames = imported(payload()), STATSIG, TO_STATSIG
    back = {to: was for was, to in renames.items()}
    provider = migration(old, new, stage="shadow", ramp={FLAG: 100}, group_map={FLAG: renames})
    with Flagport(provider, sticky=store) as fp:
        on_new = served(fp)
        provider.set_ramp(FLAG, 0)
        on_old = served(fp)
    old_name, new_name = ("statsig", "local") if imported_is == "new" else ("local", "statsig")
    assert {p for _, p, _ in on_new} == {new_name}
    assert [g for g, _, _ in on_old] == [back[g] for g, _, _ in on_new]  # type: ignore[index]
    assert {(p, r) for _, p, r in on_old} == {(old_name, Reason.STICKY)}


def test_a_unit_blocked_by_growthbooks_documents_is_not_given_a_group_on_statsig(
    tmp_path: Path,
) -> None:
    """GrowthBook's documents only count where GrowthBook would serve them: a unit the
    imported side blocks (assigned below its minimum version) keeps Statsig's answer."""
    features = copy.deepcopy(payload(bucketVersion=1, minBucketVersion=1))
    provider = migration(imported(features), STATSIG, stage="to", group_map={FLAG: TO_STATSIG})
    user = USERS[0]
    with Flagport(provider, sticky={"store": "sqlite", "path": str(tmp_path / "a.db")}) as fp:
        assert fp._sticky is not None
        fp._sticky.store.save(
            [(str(user.user_id), "growthbook:button-color-exp__0", Assignment("gb_blue", {}, 0))]
        )
        result = fp.get_experiment(user, FLAG)
    assert result.reason is not Reason.STICKY
