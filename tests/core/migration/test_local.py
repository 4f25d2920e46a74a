"""The migration provider over the ``local`` provider: flags files in tmp_path.

The local evaluator can reproduce a vendor's bucketing (``hash: statsig`` with the
vendor's salts, ``hash: growthbook``), so between a vendor and ``local`` per-user
agreement is expected, unlike between two vendors.
"""

from __future__ import annotations

import hashlib
import time
from pathlib import Path
from typing import Any

import pytest

from flagport import Flagport, User
from flagport.providers.migration import MigrationProvider
from flagport.providers.migration.compare import Verdict
from flagport.testing.conformance import ProviderConformance
from flagport_growthbook.testing import scenario_payload
from flagport_statsig.testing import scenario_specs

SCENARIO = """\
version: 1
hash: {hash}
gates:
  new_checkout:
    salt: {gate_salt}
    rules:
      - id: us
        when: {{country: US}}
      - id: rollout
        pass_percentage: 50
experiments:
  button_color:
    unit: user_id
    salt: {experiment_salt}
    allocation: 100
    groups:
      - {{name: control, weight: {w1}, value: {{color: gray}}}}
      - {{name: blue, weight: {w2}, value: {{color: blue}}}}
      - {{name: green, weight: {w3}, value: {{color: green}}}}
configs:
  pricing:
    default: {{discount: 0}}
    rules:
      - {{id: pro, when: {{plan: pro}}, value: {{discount: {discount}}}}}
"""
# Statsig's scenario uses the spec salts below and per-mille buckets 333/667/1000
# (bucket < 333 is control); GrowthBook's uses the flag key as seed and weights
# 0.3334/0.3333/0.3333. Weights 33.4/33.3/33.3 against Statsig put bucket 333 in the
# wrong group: 0.1 % of users, which is what EDGES below are for.
STATSIG_LIKE = {
    "hash": "statsig", "gate_salt": "new_checkout_salt", "experiment_salt": "button_color_salt",
    "w1": 33.3, "w2": 33.4, "w3": 33.3, "discount": 0.1,
}  # fmt: skip
GROWTHBOOK_LIKE = {
    "hash": "growthbook", "gate_salt": "new_checkout", "experiment_salt": "button_color",
    "w1": 33.34, "w2": 33.33, "w3": 33.33, "discount": 0.1,
}  # fmt: skip


def _statsig_bucket(unit: str) -> int:
    digest = hashlib.sha256(f"button_color_salt.{unit}".encode()).digest()
    return int.from_bytes(digest[:8], "big") % 1000


# Users on both sides of every group boundary of Statsig's experiment (buckets 332/333
# and 666/667), where a wrong weight shows first.
EDGES = [
    u for u in (f"edge-{i}" for i in range(20_000)) if _statsig_bucket(u) in (332, 333, 666, 667)
]
USERS = [
    User(user_id=uid, country=("US", "DE", "FR")[i % 3], custom={"plan": ("pro", "free")[i % 2]})
    for i, uid in enumerate([*(f"user-{i}" for i in range(1000)), *EDGES])
]


def flags_file(tmp_path: Path, name: str, **values: Any) -> Path:
    path = tmp_path / name
    path.write_text(SCENARIO.format(**values))
    return path


def run(provider: MigrationProvider) -> dict[str, Any]:
    with Flagport(provider, strict=True) as fp:
        for user in USERS:
            fp.check_gate(user, "new_checkout")
            fp.get_experiment(user, "button_color")
            fp.get_config(user, "pricing")
        fp.flush()
        return fp.stats()["provider"]["flags"]  # type: ignore[no-any-return]


def test_local_reproduces_statsig_bucketing_user_by_user(tmp_path: Path) -> None:
    local = flags_file(tmp_path, "flags.yaml", **STATSIG_LIKE)
    provider = MigrationProvider.from_options(
        **{
            "from": {"provider": "statsig", "offline": True, "bootstrap": scenario_specs()},
            "to": {"provider": "local", "path": str(local), "watch": False},
        },
        stage="shadow",
    )
    flags = run(provider)
    for name in ("new_checkout", "button_color", "pricing"):
        assert (flags[name]["compared"], flags[name]["mismatches"]) == (len(USERS), 0), name
    assert flags["button_color"]["split"]["verdict"] == Verdict.AGREE
    assert flags["new_checkout"]["split"]["verdict"] == Verdict.AGREE


def test_local_reproduces_growthbook_bucketing_user_by_user(tmp_path: Path) -> None:
    local = flags_file(tmp_path, "flags.yaml", **GROWTHBOOK_LIKE)
    provider = MigrationProvider.from_options(
        **{
            "from": {"provider": "local", "path": str(local), "watch": False},
            "to": {"provider": "growthbook", "offline": True, "bootstrap": scenario_payload()},
        },
        stage="live",
    )
    flags = run(provider)
    assert all(flags[n]["mismatches"] == 0 for n in ("new_checkout", "button_color", "pricing"))
    assert flags["button_color"]["split"]["verdict"] == Verdict.AGREE


def test_statsig_to_local_with_another_hash_is_expected_disagreement(tmp_path: Path) -> None:
    local = flags_file(tmp_path, "flags.yaml", **GROWTHBOOK_LIKE)
    provider = MigrationProvider.from_options(
        **{
            "from": {"provider": "statsig", "offline": True, "bootstrap": scenario_specs()},
            "to": {"provider": "local", "path": str(local), "watch": False},
        },
        stage="shadow",
    )
    flags = run(provider)
    assert flags["button_color"]["split"]["verdict"] == Verdict.DIFFERENT_BUCKETING
    assert flags["pricing"]["mismatches"] == 0


def test_a_changed_rule_in_the_new_file_is_caught_and_its_fix_is_picked_up(
    tmp_path: Path,
) -> None:
    old = flags_file(tmp_path, "old.yaml", **STATSIG_LIKE)
    new = flags_file(tmp_path, "new.yaml", **{**STATSIG_LIKE, "discount": 0.2})
    provider = MigrationProvider.from_options(
        **{
            "from": {"provider": "local", "path": str(old), "watch": False},
            "to": {"provider": "local", "path": str(new), "reload_interval": 0.05},
        },
        stage="shadow",
        compare_on="caller",
    )
    with Flagport(provider, strict=True) as fp:
        pro, free = USERS[0], USERS[1]
        assert fp.get_config(pro, "pricing").get("discount", 0.0) == 0.1  # served: old
        assert fp.get_config(free, "pricing").get("discount", 0.0) == 0
        assert provider.stats()["flags"]["pricing"]["mismatches"] == 1
        new.write_text(SCENARIO.format(**STATSIG_LIKE))  # the fix
        deadline = time.monotonic() + 10
        while provider.new.evaluate_config(pro, "pricing").value.get("discount") != 0.1:
            assert time.monotonic() < deadline, "the new flags file was not reloaded"
            time.sleep(0.05)
        fp.get_config(pro, "pricing")
        assert provider.stats()["flags"]["pricing"]["mismatches"] == 1  # no new one


class TestLocalMigrationConformance(ProviderConformance):
    # A migration's results name the side that served them.
    result_provider = "local"
    path: Path

    @pytest.fixture(autouse=True)
    def _files(self, tmp_path: Path) -> None:
        self.path = flags_file(tmp_path, "flags.yaml", **STATSIG_LIKE)

    def make_provider(self) -> MigrationProvider:
        side = {"provider": "local", "path": str(self.path), "watch": False}
        return MigrationProvider.from_options(  # type: ignore[return-value]
            **{"from": side, "to": side}, stage="live", ramp={"new_checkout": 50}
        )
