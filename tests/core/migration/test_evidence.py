"""Per-flag evidence, the latency reservoir and the bounded mismatch log."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from flagport.errors import FlagNotFoundError, GeneralError
from flagport.providers.migration import evidence as evidence_module
from flagport.providers.migration.evidence import Evidence, FlagEvidence, Reservoir
from flagport.providers.migration.mismatch_log import MismatchLog, UnitHasher
from flagport.providers.migration.options import Side
from flagport.results import ConfigResult, ExperimentResult, freeze


def test_reservoir_is_bounded_uniform_and_totals_are_exact() -> None:
    r = Reservoir(200, seed=3)
    for v in range(1, 20_001):
        r.add(v * 1000, 2 * v * 1000)
    old, new = r.samples[Side.OLD], r.samples[Side.NEW]
    assert len(old) == len(new) == 200
    assert r.count == 20_000
    total = sum(range(1, 20_001)) * 1000
    assert (r.old_total, r.new_total) == (total, 2 * total)
    # A uniform sample of 1..20000 µs: the median is near 10000 µs, and old samples
    # were kept as well as recent ones.
    p50, p99 = r.percentiles(Side.OLD, 50, 99)
    assert 7_000_000 < p50 < 13_000_000
    assert p99 > p50
    assert min(old) < 2_000_000
    assert list(new) == [2 * v for v in old]  # pairs stay together
    summary = r.summary_us(Side.NEW)
    assert summary["n"] == 20_000
    assert summary["max"] <= 40_000


def test_errors_count_flag_not_found_apart() -> None:
    ev = FlagEvidence("f", "gate")
    ev.error(Side.NEW, FlagNotFoundError("f"))
    ev.error(Side.NEW, GeneralError("down"))
    ev.error(Side.OLD)
    data = ev.to_dict()
    assert data["errors"] == {"from": 1, "to": 2}
    assert data["not_found"] == {"from": 0, "to": 1}


def test_gate_split_counts_true_and_false() -> None:
    ev = FlagEvidence("g", "gate")
    for old, new in [(True, True), (True, False), (False, False), (False, True)]:
        ev.compare(old, new)
    split = ev.to_dict(min_sample=1)["split"]
    assert split["distribution"] == {"from": {"true": 2, "false": 2}, "to": {"true": 2, "false": 2}}
    assert split["group_mismatches"] == 2


def test_a_scalar_config_value_equals_a_vendors_wrapped_one() -> None:
    # A vendor provider wraps a scalar config value ({"value": True}); the local
    # provider serves it as it is. A boolean is no exception, but True is still not 1.
    ev = FlagEvidence("c", "config")
    pairs = [({"value": True}, True), (False, {"value": False}), ({"value": 1}, True)]
    found = [
        ev.compare(ConfigResult(name="c", value=freeze(old)), ConfigResult(name="c", value=new))
        for old, new in pairs
    ]
    assert [mismatch is None for mismatch in found] == [True, True, False]


def test_experiment_compare_maps_groups_and_checks_values() -> None:
    ev = FlagEvidence("e", "experiment", {"Blue": "blue"})

    def result(group: str | None, color: str) -> ExperimentResult:
        return ExperimentResult(name="e", group=group, value=freeze({"color": color}))

    assert ev.compare(result("Blue", "blue"), result("blue", "blue")) is None
    group = ev.compare(result("Blue", "blue"), result("green", "green"))
    value = ev.compare(result("Blue", "blue"), result("blue", "navy"))
    assert group is not None
    assert (group.field, group.old, group.new) == ("group", "blue", "green")
    assert value is not None
    assert (value.field, value.keys) == ("value", ("color",))
    outside = ev.compare(result(None, "gray"), result(None, "gray"))
    assert outside is None
    data = ev.to_dict()
    assert (data["compared"], data["mismatches"]) == (4, 2)
    assert data["split"]["distribution"]["from"] == {"blue": 3, "(none)": 1}


def test_unit_hashes_are_keyed_and_stable() -> None:
    a, b = UnitHasher("k1"), UnitHasher("k2")
    assert a("42") == a("42") != b("42")
    assert "42" not in a("42")
    assert a(None) == a("") == ""


def test_log_is_bounded_and_rotates(tmp_path: Path) -> None:
    log = MismatchLog(tmp_path / "m-{pid}.jsonl", max_bytes=10_000)
    assert "{pid}" not in log.path.name
    for i in range(1000):
        log.write({"type": "mismatch", "flag": "f", "unit": f"{i:016x}"})
    log.close()
    rotated = log.path.with_name(log.path.name + ".1")
    total = log.path.stat().st_size + rotated.stat().st_size
    assert total <= 10_000
    assert log.rotations > 1
    last = json.loads(log.path.read_text().splitlines()[-1])
    assert last["unit"] == f"{999:016x}"
    assert last["run"] == log.run


def test_unwritable_log_never_raises(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("")
    log = MismatchLog(blocker / "sub" / "m.jsonl")
    log.write({"type": "mismatch"})
    assert log.failures == 1


def test_report_writes_hashed_units_and_bounded_values(tmp_path: Path) -> None:
    log = MismatchLog(tmp_path / "m.jsonl")
    evidence = Evidence(hasher=UnitHasher("k"), log=log)
    ev = evidence.flag("pricing", "config")
    mismatch = ev.compare(ConfigLike({"blob": "x" * 1000}), ConfigLike({"blob": "y"}))
    assert mismatch is not None
    evidence.report(ev, mismatch, "user-42", served_by=Side.OLD)
    log.flush()
    record = json.loads((tmp_path / "m.jsonl").read_text())
    assert record["unit"] == UnitHasher("k")("user-42")
    assert "user-42" not in json.dumps(record)
    assert record["from"]["truncated"] is True
    assert record["to"] == {"blob": "y"}
    assert record["keys"] == ["blob"]


class ConfigLike:
    def __init__(self, value: dict[str, str]) -> None:
        self.value = value


def test_flags_beyond_the_bound_share_one_entry(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(evidence_module, "MAX_FLAGS", 3)
    evidence = Evidence()
    for i in range(10):
        evidence.flag(f"f{i}", "gate").compare(True, True)
    assert len(evidence.flags) == 4
    assert evidence.flags[f"gate:{evidence_module.OVERFLOW}"].compared == 7
