"""A live experiment moves from Statsig to GrowthBook without reshuffling its users:
both real SDKs, against the loopback servers of their providers' testing modules."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from flagport import Flagport, User
from flagport.providers.migration import MigrationProvider
from flagport.reasons import Reason
from flagport_growthbook.testing import GrowthBookLoopback, scenario_payload
from flagport_statsig.testing import StatsigLoopbackServer, scenario_specs

USERS = [User(user_id=f"user-{i}", country="US") for i in range(1000)]


def renamed_payload() -> dict[str, Any]:
    """GrowthBook's copy of the experiment names its groups differently (a group map
    says which is which)."""
    payload = scenario_payload()
    rule = payload["features"]["button_color"]["rules"][0]
    rule["meta"] = [{"key": key} for key in ("gb_control", "gb_blue", "gb_green")]
    return payload


GROUP_MAP = {"button_color": {"control": "gb_control", "blue": "gb_blue", "green": "gb_green"}}


@pytest.fixture
def servers() -> Iterator[tuple[StatsigLoopbackServer, GrowthBookLoopback]]:
    with (
        StatsigLoopbackServer(scenario_specs()) as statsig,
        GrowthBookLoopback(renamed_payload()) as growthbook,
    ):
        yield statsig, growthbook


def migration(
    servers: tuple[StatsigLoopbackServer, GrowthBookLoopback], stage: str, **opts: Any
) -> MigrationProvider:
    statsig, growthbook = servers
    return MigrationProvider.from_options(
        **{
            "from": {"provider": "statsig", **statsig.provider_options()},
            "to": {"provider": "growthbook", **growthbook.options()},
        },
        stage=stage,
        **opts,
    )


def groups(fp: Flagport) -> list[tuple[str | None, str | None, Reason]]:
    return [
        (r.group, r.provider, r.reason)
        for r in (fp.get_experiment(u, "button_color") for u in USERS)
    ]


def test_a_statsig_to_growthbook_migration_keeps_every_user_in_his_group(
    servers: tuple[StatsigLoopbackServer, GrowthBookLoopback], tmp_path: Path
) -> None:
    sticky = {"store": "sqlite", "path": str(tmp_path / "assignments.db")}
    # Live traffic on Statsig, flagport storing the groups Statsig serves.
    with Flagport(migration(servers, "shadow", group_map=GROUP_MAP), sticky=sticky) as fp:
        on_statsig = groups(fp)
    assert {p for _, p, _ in on_statsig} == {"statsig"}
    assert {g for g, _, _ in on_statsig} == {"control", "blue", "green"}

    # Without stickiness, GrowthBook's own hash reshuffles most users.
    with Flagport(migration(servers, "to", group_map=GROUP_MAP)) as fp:
        fresh = groups(fp)
    renamed = GROUP_MAP["button_color"]
    reshuffled = sum(
        renamed[a] != b for (a, _, _), (b, _, _) in zip(on_statsig, fresh, strict=True)
    )
    assert reshuffled > len(USERS) // 3

    # With it: 100 % of users keep their group, now served by GrowthBook under its names.
    with Flagport(migration(servers, "to", group_map=GROUP_MAP), sticky=sticky) as fp:
        on_growthbook = groups(fp)
    assert [g for g, _, _ in on_growthbook] == [renamed[g] for g, _, _ in on_statsig]
    assert {(p, r) for _, p, r in on_growthbook} == {("growthbook", Reason.STICKY)}
