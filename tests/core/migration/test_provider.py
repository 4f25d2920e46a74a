"""The migration provider: stages, ramps, comparison, run-time control, events, bad secondaries."""

from __future__ import annotations

import json
import logging
import multiprocessing
import random
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from flagport import ConfigurationError, ErrorCode, Flagport, User, hookimpl
from flagport.events.model import Event, EventKind, FlagKind
from flagport.plugins import register_plugin, unregister_plugin
from flagport.providers.migration import MigrationProvider, Stage
from flagport.providers.migration.comparator import QUEUE_SIZE, TRIP_AFTER
from flagport.providers.migration.compare import Verdict
from flagport.providers.migration.provider import TIME_EVERY
from flagport.testing.conformance import ProviderConformance

OLD: dict[str, Any] = {
    "label": "old",
    "gates": {"new_checkout": ["1", "2", "3"], "everyone": True},
    "experiments": {
        "button_color": {
            "salt": "a",
            "groups": {"control": {"color": "gray"}, "blue": {"color": "blue"}},
        }
    },
    "configs": {"pricing": {"discount": 0.1}},
}
NEW: dict[str, Any] = {**OLD, "label": "new"}
USERS = [User(user_id=str(i), country="US") for i in range(400)]


def provider(
    stage: str = "shadow",
    old: dict[str, Any] | None = None,
    new: dict[str, Any] | None = None,
    **opts: Any,
) -> MigrationProvider:
    options: dict[str, Any] = {"stage": stage, "compare_on": "caller", **opts}
    options["from"] = {"provider": "table", **(old or OLD)}
    options["to"] = {"provider": "table", **(new or NEW)}
    return MigrationProvider.from_options(**options)  # type: ignore[return-value]


@pytest.fixture
def client() -> Iterator[Any]:
    made: list[Flagport] = []

    def make(*args: Any, **kwargs: Any) -> tuple[Flagport, MigrationProvider]:
        p = provider(*args, **kwargs)
        fp = Flagport(p, strict=False)
        made.append(fp)
        return fp, p

    yield make
    for fp in made:
        fp.shutdown(timeout=2)


def served_by(fp: Flagport, flag: str = "everyone") -> list[str | None]:
    return [fp.get_gate(u, flag).provider for u in USERS]


# -- stages ------------------------------------------------------------------------------


def test_from_stage_serves_old_only(client: Any) -> None:
    fp, p = client("from")
    assert set(served_by(fp)) == {"old"}
    assert p.new.calls == 0
    assert p.stats()["flags"] == {}


def test_shadow_serves_old_and_compares_new_without_exposures(client: Any) -> None:
    fp, p = client("shadow")
    assert set(served_by(fp)) == {"old"}
    assert p.new.calls == len(USERS)
    assert set(p.new.expose_flags) == {False}
    flag = p.stats()["flags"]["everyone"]
    assert (flag["compared"], flag["mismatches"], flag["stage"]) == (len(USERS), 0, "shadow")
    assert flag["latency_us"]["to"]["n"] == len(USERS) // TIME_EVERY  # one in 16 is timed


def test_live_serves_new_and_compares_old(client: Any) -> None:
    fp, p = client("live")
    assert set(served_by(fp)) == {"new"}
    assert p.old.calls == len(USERS)
    assert set(p.old.expose_flags) == {False}
    assert p.stats()["flags"]["everyone"]["compared"] == len(USERS)


def test_to_stage_serves_new_only(client: Any) -> None:
    fp, p = client("to")
    assert set(served_by(fp)) == {"new"}
    assert p.old.calls == 0


def test_per_flag_stages_override_the_default(client: Any) -> None:
    fp, _p = client("from", stages={"everyone": "to"})
    assert set(served_by(fp, "everyone")) == {"new"}
    assert set(served_by(fp, "new_checkout")) == {"old"}


def test_check_gate_fast_path_compares_too(client: Any) -> None:
    changed = {**NEW, "gates": {"new_checkout": ["1", "2", "4"], "everyone": True}}
    fp, p = client("shadow", new=changed)
    served = [fp.check_gate(u, "new_checkout") for u in USERS[:10]]
    assert served == [u.user_id in {"1", "2", "3"} for u in USERS[:10]]
    flag = p.stats()["flags"]["new_checkout"]
    assert (flag["compared"], flag["mismatches"]) == (10, 2)  # users 3 and 4


# -- ramps -------------------------------------------------------------------------------


def test_ramp_serves_new_to_a_stable_share_of_units(client: Any) -> None:
    fp, p = client("shadow", ramp={"everyone": 30})
    first = served_by(fp)
    assert first == served_by(fp)  # deterministic per unit
    share = first.count("new") / len(first)
    assert 0.22 < share < 0.38
    flag = p.stats()["flags"]["everyone"]
    assert flag["compared"] == 2 * len(USERS)  # both sides evaluated for every unit


def test_growing_ramp_never_moves_a_unit_back(client: Any) -> None:
    fp, p = client("shadow", ramp={"everyone": 10})
    before = served_by(fp)
    p.set_ramp("everyone", 60)
    after = served_by(fp)
    assert all(a == "new" for b, a in zip(before, after, strict=True) if b == "new")
    assert after.count("new") > before.count("new")


def test_ramp_applies_in_live_and_not_in_from_or_to(client: Any) -> None:
    fp, p = client("live", ramp={"everyone": 50})
    assert set(served_by(fp)) == {"old", "new"}
    p.set_stage("everyone", "from")
    assert set(served_by(fp)) == {"old"}
    p.set_stage("everyone", "to")
    assert set(served_by(fp)) == {"new"}


def test_ramps_of_different_flags_pick_different_units(client: Any) -> None:
    fp, _ = client("shadow", ramp={"everyone": 50, "new_checkout": 50})
    a = served_by(fp, "everyone")
    b = [fp.get_gate(u, "new_checkout").provider for u in USERS]
    assert a != b


def test_users_without_the_ramp_unit_stay_on_the_old_side(client: Any) -> None:
    fp, _ = client("shadow", ramp={"everyone": 99.99})
    assert fp.get_gate(User(country="US"), "everyone").provider == "old"


# -- run-time control ----------------------------------------------------------------------


def test_set_stage_and_ramp_survive_a_rebuild_from_options(client: Any) -> None:
    _fp, p = client("from")
    p.set_stage(None, "shadow")
    p.set_stage("everyone", Stage.LIVE)
    p.set_ramp("new_checkout", 25)
    p.set_sample_rate(0.5)
    rebuilt = type(p)(p.options)  # what the client does after fork
    assert rebuilt.stage_of("everyone") is Stage.LIVE
    assert rebuilt.stage_of("anything") is Stage.SHADOW
    assert rebuilt.options.ramp == {"new_checkout": 25.0}
    assert rebuilt.options.sample_rate == 0.5
    with pytest.raises(ValueError, match="percentage"):
        p.set_ramp("everyone", 150)
    with pytest.raises(ValueError):
        p.set_stage("everyone", "sideways")


def test_control_file_is_reloaded_and_a_bad_edit_keeps_the_last_good(
    client: Any, tmp_path: Path
) -> None:
    control = tmp_path / "migration.toml"
    control.write_text('stage = "shadow"\n[stages]\neveryone = "to"\n')
    fp, p = client("from", control_file=str(control), control_poll_s=0)
    assert set(served_by(fp)) == {"new"}  # applied at start
    assert p.stage_of("new_checkout") is Stage.SHADOW
    control.write_text('[stages]\neveryone = "live"\n[ramp]\neveryone = 0\n')
    assert p.reload() is True
    assert p.stage_of("everyone") is Stage.LIVE
    assert set(served_by(fp)) == {"old"}  # live with a 0 % ramp serves old
    control.write_text('[stages]\neveryone = "sideways"\n')
    assert p.reload() is False
    assert p.stage_of("everyone") is Stage.LIVE
    assert p.control_error is not None
    assert str(control) in p.control_error
    assert "stages.everyone" in p.control_error
    assert p.stats()["control_error"] == p.control_error


def test_sample_rate_zero_compares_nothing(client: Any) -> None:
    fp, p = client("shadow", sample_rate=0.0)
    assert set(served_by(fp)) == {"old"}
    assert p.new.calls == 0


def test_sample_rate_compares_a_share_drawn_per_call(client: Any) -> None:
    fp, p = client("shadow", sample_rate=0.25)
    for _ in range(10):
        for u in USERS:
            assert fp.check_gate(u, "everyone") is True
    compared = p.stats()["flags"]["everyone"]["compared"]
    assert 0.2 * 10 * len(USERS) < compared < 0.3 * 10 * len(USERS)
    assert p.new.calls == compared


@pytest.mark.parametrize(("stage", "rate"), [("shadow", 1.0), ("shadow", 0.0), ("from", 0.5)])
def test_no_random_number_is_drawn_when_the_rate_decides_alone(
    client: Any, stage: str, rate: float
) -> None:
    # Every call compared (rate 1), none (rate 0, or a stage that does not compare):
    # drawing would cost the hot path for nothing, and consume the process's stream.
    fp, p = client(stage, sample_rate=rate, compare_on="worker")
    random.seed(7)
    expected = random.getstate()
    for u in USERS[:50]:
        assert fp.check_gate(u, "everyone") is True
    assert random.getstate() == expected
    assert p.stats()["flags"].get("everyone", {}).get("compared", 0) == (50 if rate == 1.0 else 0)


def test_uncompared_evaluations_call_the_served_provider_only(client: Any) -> None:
    fp, p = client("shadow", sample_rate=0.0)
    fp.check_gate(USERS[0], "everyone")
    assert (p.old.calls, p.new.calls) == (1, 0)
    # The client holds on to check_gate; a stage change reaches it at once.
    p.set_stage(None, "to")
    fp.check_gate(USERS[0], "everyone")
    assert (p.old.calls, p.new.calls) == (1, 1)
    p.set_sample_rate(1.0)
    fp.check_gate(USERS[0], "everyone")
    assert (p.old.calls, p.new.calls) == (1, 2)  # nothing compares in "to"
    p.set_stage(None, "live")
    fp.check_gate(USERS[0], "everyone")
    assert (p.old.calls, p.new.calls) == (2, 3)


def test_flags_served_by_different_sides_are_routed_per_call(client: Any) -> None:
    fp, p = client("shadow", sample_rate=0.0, stages={"new_checkout": "to"})
    assert fp.get_gate(USERS[1], "new_checkout").provider == "new"
    assert fp.get_gate(USERS[1], "everyone").provider == "old"
    assert p.check_gate(USERS[1], "new_checkout", expose=False) is True
    assert p.stats()["flags"] == {}


# -- mismatches ------------------------------------------------------------------------------


class MismatchRecorder:
    def __init__(self) -> None:
        self.calls: list[dict[str, Any]] = []

    @hookimpl
    def flagport_on_mismatch(
        self, flag: str, kind: str, user_key: str, served: Any, other: Any
    ) -> None:
        self.calls.append(
            {"flag": flag, "kind": kind, "user_key": user_key, "served": served, "other": other}
        )


@pytest.fixture
def recorder() -> Iterator[MismatchRecorder]:
    rec = MismatchRecorder()
    register_plugin(rec, name="migration-tests-recorder")
    yield rec
    unregister_plugin(rec)


def test_a_changed_rule_is_detected_logged_and_observed(
    client: Any, recorder: MismatchRecorder, tmp_path: Path
) -> None:
    log = tmp_path / "mismatches.jsonl"
    changed = {**NEW, "gates": {"new_checkout": ["1", "2"], "everyone": True}}
    fp, p = client("shadow", new=changed, mismatch_log=str(log))
    results = [fp.check_gate(u, "new_checkout") for u in USERS]
    assert results.count(True) == 3  # the served (old) answers are untouched
    flag = p.stats()["flags"]["new_checkout"]
    assert (flag["compared"], flag["mismatches"]) == (len(USERS), 1)
    assert flag["mismatch_rate"] == pytest.approx(1 / len(USERS))
    assert len(recorder.calls) == 1
    call = recorder.calls[0]
    assert (call["flag"], call["kind"], call["served"], call["other"]) == (
        "new_checkout",
        "gate",
        True,
        False,
    )
    assert call["user_key"] == p.evidence.hasher("3")  # the user the rule changed for
    assert call["user_key"] != "3"
    fp.flush()
    lines = [json.loads(line) for line in log.read_text().splitlines()]
    mismatch = next(r for r in lines if r["type"] == "mismatch")
    assert mismatch["unit"] == call["user_key"]
    assert (mismatch["from"], mismatch["to"], mismatch["served"]) == (True, False, "from")
    assert '"3"' not in json.dumps(mismatch)
    summary = [r for r in lines if r["type"] == "summary"][-1]
    assert summary["flags"]["new_checkout"]["mismatches"] == 1


def test_config_mismatch_names_the_differing_keys(client: Any) -> None:
    changed = {**NEW, "configs": {"pricing": {"discount": 0.2}}}
    fp, p = client("live", new=changed)
    assert fp.get_config(USERS[0], "pricing").get("discount", 0.0) == 0.2
    flag = p.stats()["flags"]["pricing"]
    assert (flag["kind"], flag["mismatches"]) == ("config", 1)


def _experiment(salt: str, groups: dict[str, Any]) -> dict[str, Any]:
    return {**OLD, "experiments": {"button_color": {"salt": salt, "groups": groups}}}


def _run_experiment(client: Any, old: dict[str, Any], new: dict[str, Any], **opts: Any) -> Any:
    fp, p = client("shadow", old=old, new=new, **opts)
    users = [User(user_id=f"u{i}") for i in range(2000)]
    for u in users:
        fp.get_experiment(u, "button_color")
    return p.stats()["flags"]["button_color"]["split"]


GROUPS = {"control": {"color": "gray"}, "blue": {"color": "blue"}}


def test_same_bucketing_agrees_per_user(client: Any) -> None:
    exp = _run_experiment(client, _experiment("a", GROUPS), _experiment("a", GROUPS))
    assert exp["verdict"] == Verdict.AGREE
    assert exp["group_mismatches"] == 0


def test_different_bucketing_is_expected_disagreement(client: Any) -> None:
    exp = _run_experiment(client, _experiment("a", GROUPS), _experiment("b", GROUPS))
    assert exp["verdict"] == Verdict.DIFFERENT_BUCKETING
    assert 800 < exp["group_mismatches"] < 1200  # chance level: half of 2000
    assert exp["chi_square"]["p_value"] > 0.01
    assert exp["chance_agreement"] == pytest.approx(0.5, abs=0.03)


def test_a_changed_split_is_a_real_mismatch(client: Any) -> None:
    three = {**GROUPS, "green": {"color": "green"}}
    exp = _run_experiment(client, _experiment("a", GROUPS), _experiment("b", three))
    assert exp["verdict"] == Verdict.DIFFERENT_SPLIT
    assert exp["chi_square"]["p_value"] < 1e-6


def test_same_group_with_other_values_is_a_real_mismatch(client: Any) -> None:
    navy = {"control": {"color": "gray"}, "blue": {"color": "navy"}}
    exp = _run_experiment(client, _experiment("a", GROUPS), _experiment("a", navy))
    assert exp["verdict"] == Verdict.DIFFERENT_VALUES
    assert exp["group_mismatches"] == 0
    assert exp["value_mismatches"] > 800


def test_group_map_translates_old_group_names(client: Any) -> None:
    old_names = {"Control": {"color": "gray"}, "Blue": {"color": "blue"}}
    exp = _run_experiment(
        client,
        _experiment("a", old_names),
        _experiment("a", GROUPS),
        group_map={"button_color": {"Control": "control", "Blue": "blue"}},
    )
    assert exp["verdict"] == Verdict.AGREE
    assert set(exp["distribution"]["from"]) == {"control", "blue"}


# -- a failing or slow secondary ----------------------------------------------------------------


def test_failing_secondary_never_changes_the_answer(client: Any) -> None:
    fp, p = client("shadow")
    expected = [fp.check_gate(u, "new_checkout") for u in USERS[:20]]
    p.new.fail = True
    assert [fp.check_gate(u, "new_checkout") for u in USERS[:20]] == expected
    assert fp.get_config(USERS[0], "pricing").error_code is None
    errors = p.stats()["flags"]["new_checkout"]["errors"]
    assert errors == {"from": 0, "to": 20}


def test_failing_old_side_in_live_is_counted_not_served(client: Any) -> None:
    fp, p = client("live")
    p.old.fail = True
    result = fp.get_gate(USERS[0], "everyone")
    assert (result.value, result.provider, result.error_code) == (True, "new", None)
    assert p.stats()["flags"]["everyone"]["errors"]["from"] == 1


def test_failing_served_side_gives_the_default_and_is_counted(client: Any) -> None:
    fp, p = client("shadow")
    p.old.fail = True
    result = fp.get_gate(USERS[0], "everyone")
    assert (result.value, result.error_code) == (False, ErrorCode.GENERAL)
    assert p.stats()["flags"]["everyone"]["errors"] == {"from": 1, "to": 0}
    assert p.new.calls == 0  # nothing to compare with


def test_offloaded_secondary_never_delays_the_answer(client: Any) -> None:
    fp, p = client("shadow", compare_on="worker")
    p.new.block = True
    # The secondary blocks until released; the answer comes back while it is blocked.
    assert fp.check_gate(USERS[1], "new_checkout") is True
    assert p.new.entered.wait(5)
    assert not p.new.release.is_set()
    p.new.release.set()
    assert p.drain(5)
    assert not p.new.release_timed_out
    flag = p.stats()["flags"]["new_checkout"]
    assert (flag["compared"], flag["mismatches"]) == (1, 0)
    assert p.stats()["secondary"]["compare_on"] == "worker"


def test_a_slow_secondary_on_the_callers_thread_moves_to_the_worker(client: Any) -> None:
    fp, p = client("shadow", secondary_timeout_ms=5)
    fp.check_gate(USERS[0], "everyone")
    assert p.stats()["secondary"]["compare_on"] == "caller"
    p.new.delay_s = 0.05  # ten times the bound
    fp.check_gate(USERS[0], "everyone")  # one slow call may be the machine
    assert p.stats()["secondary"]["compare_on"] == "caller"
    fp.check_gate(USERS[0], "everyone")  # the second in a row moves it
    secondary = p.stats()["secondary"]
    assert (secondary["compare_on"], secondary["moved_to_worker"]) == ("worker", True)
    p.new.delay_s = 0.0
    p.new.block = True
    assert fp.check_gate(USERS[1], "everyone") is True  # returns while the secondary blocks
    assert p.new.entered.wait(5)
    p.new.release.set()
    assert p.drain(5)
    assert p.stats()["flags"]["everyone"]["compared"] == 4


def test_the_slow_secondary_warning_names_the_side_compared_not_always_the_new_one(
    client: Any, caplog: pytest.LogCaptureFixture
) -> None:
    # In "live" the new side serves and the old one is the secondary.
    fp, p = client("live", secondary_timeout_ms=5)
    p.old.delay_s = 0.05
    with caplog.at_level(logging.WARNING, logger="flagport.providers.migration"):
        for _ in range(TRIP_AFTER):
            assert fp.check_gate(USERS[0], "everyone") is True
    warnings = [r.getMessage() for r in caplog.records if "took over" in r.getMessage()]
    assert len(warnings) == 1
    assert "'from' side" in warnings[0]
    assert "'to' side" not in warnings[0]


def test_gate_checks_compared_on_the_worker_count_every_mismatch(client: Any) -> None:
    new = {**NEW, "gates": {**NEW["gates"], "new_checkout": ["1", "2", "30"]}}
    fp, p = client("shadow", new=new, compare_on="worker")
    for u in USERS:
        fp.check_gate(u, "new_checkout")
    fp.flush()
    assert p.stats()["secondary"]["compared"] == len(USERS)
    flag = p.stats()["flags"]["new_checkout"]
    # old passes users 1, 2, 3; new passes 1, 2, 30: users 3 and 30 differ
    assert (flag["compared"], flag["mismatches"]) == (len(USERS), 2)
    assert flag["split"]["distribution"] == {
        "from": {"true": 3, "false": len(USERS) - 3},
        "to": {"true": 3, "false": len(USERS) - 3},
    }


def test_callers_on_many_threads_lose_no_comparison(client: Any) -> None:
    new = {**NEW, "gates": {**NEW["gates"], "new_checkout": ["1", "2", "30"]}}
    fp, p = client("shadow", new=new, compare_on="worker")

    def work() -> None:
        for u in USERS:
            fp.check_gate(u, "new_checkout")
            fp.get_config(u, "pricing")

    threads = [threading.Thread(target=work) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    fp.flush()
    flags = p.stats()["flags"]
    assert flags["new_checkout"]["compared"] == 4 * len(USERS)
    assert flags["new_checkout"]["mismatches"] == 4 * 2
    assert flags["pricing"]["compared"] == 4 * len(USERS)
    assert p.stats()["secondary"]["dropped"] == 0


def test_flush_does_not_wait_for_traffic_that_keeps_coming(client: Any) -> None:
    fp, p = client("shadow", compare_on="worker")
    stop = threading.Event()

    def traffic() -> None:
        while not stop.is_set():
            for u in USERS[:50]:
                fp.check_gate(u, "everyone")

    thread = threading.Thread(target=traffic)
    thread.start()
    try:
        time.sleep(0.05)
        start = time.monotonic()
        assert p.drain(5)
        assert time.monotonic() - start < 2.0  # not the whole timeout
    finally:
        stop.set()
        thread.join()


def test_a_full_offload_queue_drops_comparisons_not_answers(client: Any) -> None:
    fp, p = client("shadow", compare_on="worker")
    p.new.block = True
    assert fp.check_gate(USERS[0], "everyone") is True
    assert p.new.entered.wait(5)  # the worker is stuck in the first comparison
    answers = [fp.check_gate(USERS[0], "everyone") for _ in range(QUEUE_SIZE + 10)]
    assert answers == [True] * (QUEUE_SIZE + 10)
    assert p.comparator.stats()["dropped"] == 10
    p.new.release.set()
    assert p.drain(5)
    stats = p.stats()["secondary"]
    assert (stats["compared"], stats["dropped"]) == (QUEUE_SIZE + 1, 10)


# -- events ----------------------------------------------------------------------------------


def _custom(name: str = "purchase") -> Event:
    return Event(name=name, user=USERS[0], value=9.99)


def test_custom_events_go_to_both_sides_until_the_default_stage_is_to(client: Any) -> None:
    fp, p = client("shadow")
    fp.log_event(USERS[0], "purchase", value=9.99, metadata={"sku": "A1"})
    fp.flush()
    assert [e.name for e in p.old.events] == ["purchase"]
    assert [e.name for e in p.new.events] == ["purchase"]
    assert p.new.events[0].metadata == {"sku": "A1"}
    p.set_stage(None, "to")
    p.log_event(_custom("refund"))
    assert [e.name for e in p.old.events] == ["purchase"]
    assert [e.name for e in p.new.events] == ["purchase", "refund"]


def test_exposures_go_to_the_side_that_served_the_user(client: Any) -> None:
    fp, p = client("shadow", stages={"button_color": "live"})
    fp.get_experiment(USERS[0], "button_color")
    fp.flush()
    exposures = [e for e in p.new.events if e.kind is EventKind.EXPOSURE]
    assert [(e.name, e.flag_kind) for e in exposures] == [("button_color", FlagKind.EXPERIMENT)]
    assert not [e for e in p.old.events if e.kind is EventKind.EXPOSURE]


def test_events_either_side_reports_reach_the_clients_sinks_until_shutdown() -> None:
    # The sides never override attach(): the base class's connects them.
    received: list[str] = []
    p = provider("shadow")
    with Flagport(p, strict=False, events={"sinks": [lambda e: received.append(e.name)]}) as fp:
        p.old.emit(_custom("reported_by_old"))
        p.new.emit(_custom("reported_by_new"))
        fp.flush()
        assert sorted(received) == ["reported_by_new", "reported_by_old"]
    p.new.emit(_custom("after_shutdown"))  # detached: ignored, nothing raised
    assert "after_shutdown" not in received


def test_a_failing_event_side_does_not_stop_the_other(client: Any) -> None:
    _, p = client("shadow")

    def broken(event: Event) -> None:
        raise RuntimeError("vendor down")

    p.old.log_event = broken  # type: ignore[method-assign]
    p.log_event(_custom())
    assert [e.name for e in p.new.events] == ["purchase"]
    assert p.stats()["event_errors"] == {"from": 1, "to": 0}


# -- options, settings, names ----------------------------------------------------------------


def test_inner_option_errors_are_located() -> None:
    with pytest.raises(ConfigurationError) as err:
        MigrationProvider.from_options(
            **{"from": {"provider": "table", "gatez": {}}, "to": {"provider": "table"}}
        )
    assert "migration.from.gatez" in str(err.value)
    assert "did you mean 'gates'" in str(err.value)
    with pytest.raises(ConfigurationError, match=r"migration\.to\.provider"):
        MigrationProvider.from_options(
            **{"from": {"provider": "table"}, "to": {"provider": "nope"}}
        )


@pytest.mark.parametrize(
    ("removed", "compare_on"),
    [
        ({"secondary_mode": "inline"}, "caller"),
        ({"secondary_mode": "auto"}, "worker"),
        ({"batch_size": 64, "sample_period_s": 0.1}, "worker"),
        ({"offload_queue": 8, "secondary_cooldown_s": 1}, "worker"),
    ],
)
def test_removed_options_warn_and_say_what_to_do(removed: dict[str, Any], compare_on: str) -> None:
    with pytest.warns(DeprecationWarning, match="migration option '.*' was removed") as caught:
        p = MigrationProvider.from_options(
            **{"from": {"provider": "table", **OLD}, "to": {"provider": "table", **NEW}},
            **removed,
        )
    assert p.options.compare_on == compare_on
    assert len(caught) == len(removed)
    if "secondary_mode" in removed:
        assert "use compare_on = 'worker'" in str(caught[0].message)


def test_from_and_to_must_name_a_provider() -> None:
    with pytest.raises(ConfigurationError, match="must be a table naming its provider"):
        Flagport(provider="migration", **{"from": "statsig", "to": {"provider": "table"}})


def test_selectable_from_a_settings_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "flagport.toml").write_text(
        'provider = "migration"\n'
        "[migration]\n"
        'stage = "live"\n'
        'compare_on = "caller"\n'
        '[migration.from]\nprovider = "table"\nlabel = "old"\ngates = {g = true}\n'
        '[migration.to]\nprovider = "table"\nlabel = "new"\ngates = {g = false}\n'
    )
    monkeypatch.chdir(tmp_path)
    for var in [v for v in list(__import__("os").environ) if v.startswith("FLAGPORT_")]:
        monkeypatch.delenv(var)
    with Flagport() as fp:
        result = fp.get_gate(USERS[0], "g")
        assert (result.value, result.provider) == (False, "new")
        assert fp.provider.stats()["flags"]["g"]["mismatches"] == 1


def test_names_are_the_union_of_both_sides(client: Any) -> None:
    extra = {**NEW, "gates": {**NEW["gates"], "only_new": True}}
    _, p = client("shadow", new=extra)
    names = p.names()
    assert {"new_checkout", "everyone", "only_new"} <= names.gates
    assert names.experiments == {"button_color"}


def test_stats_and_describe_are_json_and_hide_inner_options(client: Any) -> None:
    fp, p = client("shadow", hash_salt="s3cret")
    served_by(fp)
    text = json.dumps(p.stats()) + json.dumps(p.describe())
    assert "s3cret" not in text
    assert p.describe()["from"]["status"] == "READY"


class TestMigrationConformance(ProviderConformance):
    # A migration's results name the side that served them.
    result_provider = "old"
    known_gate = "new_checkout"
    known_experiment = "button_color"
    known_config = "pricing"

    def make_provider(self) -> MigrationProvider:
        return provider("shadow")


def test_a_control_file_not_written_yet_is_not_an_error(client: Any, tmp_path: Path) -> None:
    control = tmp_path / "later.toml"
    fp, p = client("shadow", control_file=str(control), control_poll_s=0)
    assert set(served_by(fp)) == {"old"}
    assert p.control_error is None
    control.write_text('stage = "to"\n')
    assert p.reload() is True
    assert set(served_by(fp)) == {"new"}


def test_summaries_are_written_while_running(client: Any, tmp_path: Path) -> None:
    log = tmp_path / "m.jsonl"
    fp, _ = client("shadow", mismatch_log=str(log), summary_interval_s=0.05)
    served_by(fp)
    # No flush, no shutdown: the housekeeping thread writes the summary on its own.
    # One may be written while the evaluations run: wait for one written after them.
    deadline = time.monotonic() + 10
    summaries: list[dict[str, Any]] = []
    compared = None
    while compared != len(USERS) and time.monotonic() < deadline:
        time.sleep(0.02)
        if log.exists():
            lines = log.read_text().splitlines()
            summaries = [r for r in map(json.loads, lines) if r["type"] == "summary"]
            flags = summaries[-1]["flags"] if summaries else {}
            compared = flags.get("everyone", {}).get("compared")
    assert summaries, "no summary was written"
    assert compared == len(USERS)
    assert summaries[-1]["stage"] == "shadow"


def _child(fp: Flagport, out: Any) -> None:
    provider = fp.provider
    result = fp.get_gate(USERS[0], "everyone")
    fp.flush()
    out.send(
        (
            result.provider,
            provider is not _PARENT_PROVIDER[0],
            provider.stats()["flags"]["everyone"]["compared"],
        )
    )
    fp.shutdown()


_PARENT_PROVIDER: list[Any] = [None]


def test_a_forked_worker_builds_its_own_provider_with_the_current_stages(client: Any) -> None:
    fp, p = client("shadow")
    fp.get_gate(USERS[0], "everyone")
    p.set_stage("everyone", "live")  # changed at run time, before the fork
    _PARENT_PROVIDER[0] = p
    context = multiprocessing.get_context("fork")
    receive, send = context.Pipe(duplex=False)
    child = context.Process(target=_child, args=(fp, send))
    child.start()
    assert receive.poll(30)
    served_by, fresh, compared = receive.recv()
    child.join(30)
    assert child.exitcode == 0
    assert (served_by, fresh, compared) == ("new", True, 1)  # the child's own evidence
    assert p.stats()["flags"]["everyone"]["compared"] == 1  # the parent's is untouched


def test_configured_from_the_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("FLAGPORT_PROVIDER", "migration")
    monkeypatch.setenv("FLAGPORT_MIGRATION_STAGE", "live")
    monkeypatch.setenv("FLAGPORT_MIGRATION_COMPARE_ON", "caller")
    monkeypatch.setenv("FLAGPORT_MIGRATION_FROM", json.dumps({"provider": "table", **OLD}))
    monkeypatch.setenv("FLAGPORT_MIGRATION_TO", json.dumps({"provider": "table", **NEW}))
    with Flagport.from_settings() as fp:
        assert fp.get_gate(USERS[0], "everyone").provider == "new"
        assert fp.stats()["provider"]["flags"]["everyone"]["compared"] == 1
