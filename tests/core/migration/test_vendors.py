"""The migration provider over the real vendor SDKs, against loopback servers.

Statsig → GrowthBook, the worked example of the migration guide: both providers run
their real SDKs against servers on 127.0.0.1 that speak the vendors' wire protocols.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from flagport import Flagport, User
from flagport.providers.migration import MigrationProvider
from flagport.providers.migration.compare import Verdict
from flagport_featbit.testing import FeatBitLoopback, scenario_flags
from flagport_growthbook.testing import GrowthBookLoopback, scenario_payload
from flagport_statsig.testing import StatsigLoopbackServer, scenario_specs

COUNTRIES = ("US", "DE", "FR", "GB")
USERS = [
    User(
        user_id=f"user-{i}",
        country=COUNTRIES[i % 4],
        custom={"plan": "pro" if i % 3 == 0 else "free"},
    )
    for i in range(400)
]


@pytest.fixture
def servers() -> Iterator[tuple[StatsigLoopbackServer, GrowthBookLoopback]]:
    with (
        StatsigLoopbackServer(scenario_specs()) as statsig,
        GrowthBookLoopback(scenario_payload()) as growthbook,
    ):
        yield statsig, growthbook


def migration(
    servers: tuple[StatsigLoopbackServer, GrowthBookLoopback], stage: str, **opts: Any
) -> Flagport:
    statsig, growthbook = servers
    provider = MigrationProvider.from_options(
        **{
            "from": {"provider": "statsig", **statsig.provider_options()},
            "to": {"provider": "growthbook", **growthbook.options()},
        },
        stage=stage,
        compare_on="caller",
        **opts,
    )
    return Flagport(provider, strict=False)


def evaluate_everything(fp: Flagport) -> set[str | None]:
    served = set()
    for user in USERS:
        served.add(fp.get_gate(user, "new_checkout").provider)
        served.add(fp.get_experiment(user, "button_color").provider)
        served.add(fp.get_config(user, "pricing").provider)
    return served


def test_shadow_statsig_to_growthbook(
    servers: tuple[StatsigLoopbackServer, GrowthBookLoopback],
) -> None:
    statsig, growthbook = servers
    with migration(servers, "shadow") as fp:
        assert evaluate_everything(fp) == {"statsig"}
        flags = fp.provider.stats()["flags"]
        # Same rules, same values: configs agree user by user.
        assert (flags["pricing"]["compared"], flags["pricing"]["mismatches"]) == (400, 0)
        # Different hashes, same split: per-user disagreement is expected, not a defect.
        experiment = flags["button_color"]["split"]
        assert experiment["verdict"] == Verdict.DIFFERENT_BUCKETING
        assert experiment["value_mismatches"] == 0
        assert 0.25 < 1 - experiment["group_mismatches"] / 400 < 0.42  # about a third
        gate = flags["new_checkout"]["split"]
        assert gate["verdict"] == Verdict.DIFFERENT_BUCKETING  # US users agree, the 50 % differ
        fp.flush()
        # The served side logged its exposures; the compared side logged none.
        statsig.wait_for_events(lambda evs: bool(statsig.exposures("button_color")))
        assert statsig.exposures("button_color")
    assert not growthbook.wait_for_events(
        lambda row: row.get("event_name") == "$$experiment_viewed", timeout=0.5
    )


def test_events_are_dual_written_to_both_vendors(
    servers: tuple[StatsigLoopbackServer, GrowthBookLoopback],
) -> None:
    statsig, growthbook = servers
    with migration(servers, "live") as fp:
        fp.log_event(USERS[0], "purchase", value=9.99, metadata={"sku": "A1"})
        fp.flush()
        got = statsig.wait_for_events(lambda evs: bool(statsig.custom_events("purchase")))
        assert [e["eventName"] for e in got if e["eventName"] == "purchase"] == ["purchase"]
        rows = growthbook.wait_for_events(lambda row: row.get("event_name") == "purchase")
        assert len(rows) == 1


def test_live_serves_growthbook_and_detects_a_changed_rule(
    servers: tuple[StatsigLoopbackServer, GrowthBookLoopback], tmp_path: Path
) -> None:
    statsig, growthbook = servers
    changed = scenario_payload()
    changed["features"]["pricing"]["rules"][0]["force"] = {"discount": 0.2}
    growthbook.set_payload(changed)
    log = tmp_path / "mismatches.jsonl"
    with migration(servers, "live", mismatch_log=str(log)) as fp:
        assert evaluate_everything(fp) == {"growthbook"}
        pricing = fp.provider.stats()["flags"]["pricing"]
        pros = sum(1 for u in USERS if u.custom["plan"] == "pro")
        assert (pricing["compared"], pricing["mismatches"]) == (400, pros)
        fp.log_event(USERS[0], "purchase", value=1.0)
        fp.flush()
        statsig.wait_for_events(lambda evs: bool(statsig.custom_events("purchase")))
        assert statsig.custom_events("purchase")  # statsig's queue was delivered...
    records = [json.loads(line) for line in log.read_text().splitlines()]
    mismatch = next(r for r in records if r["type"] == "mismatch" and r["flag"] == "pricing")
    assert (mismatch["from"], mismatch["to"], mismatch["served"]) == (
        {"discount": 0.1},
        {"discount": 0.2},
        "to",
    )
    assert mismatch["keys"] == ["discount"]
    assert not any("user-" in json.dumps(r) for r in records)
    # ...and held no exposure: statsig only compared, GrowthBook served.
    assert not statsig.exposures("button_color")


def test_growthbook_to_featbit_events_and_no_secondary_insights() -> None:
    with (
        GrowthBookLoopback(scenario_payload()) as growthbook,
        FeatBitLoopback(scenario_flags()) as featbit,
    ):
        provider = MigrationProvider.from_options(
            **{
                "from": {"provider": "growthbook", **growthbook.options()},
                "to": {"provider": "featbit", **featbit.provider_options()},
            },
            stage="shadow",
            compare_on="caller",
        )
        with Flagport(provider, strict=False) as fp:
            for user in USERS[:200]:
                assert fp.get_experiment(user, "button_color").provider == "growthbook"
                fp.get_config(user, "pricing")
            flags = fp.provider.stats()["flags"]
            assert flags["pricing"]["mismatches"] == 0
            assert flags["button_color"]["split"]["verdict"] == Verdict.DIFFERENT_BUCKETING
            fp.log_event(USERS[0], "purchase", value=9.99)
            fp.flush()
            assert featbit.wait_for(lambda: bool(featbit.metrics("purchase")), timeout=5)
            assert growthbook.wait_for_events(lambda row: row.get("event_name") == "purchase")
        # FeatBit was only compared (expose=False): it recorded no flag evaluations.
        assert not featbit.evaluations("button_color")
