"""``flagport compare`` and ``flagport migrate report|plan``."""

from __future__ import annotations

import csv
import io
import json
import time
import tomllib
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import click
import pytest
from click.testing import CliRunner

from flagport import User
from flagport.cli import cli
from flagport.cli.migrate import parse_spec
from flagport.providers.migration import MigrationProvider
from flagport.providers.migration.compare import Verdict

GROUPS = {"control": {"color": "gray"}, "blue": {"color": "blue"}}
OLD: dict[str, Any] = {
    "provider": "table",
    "label": "old",
    "gates": {"new_checkout": [str(i) for i in range(0, 300, 3)], "everyone": True},
    "experiments": {"button_color": {"salt": "a", "groups": GROUPS}},
    "configs": {"pricing": {"discount": 0.1}},
}


def write(path: Path, data: Any) -> Path:
    path.write_text(json.dumps(data))
    return path


@pytest.fixture
def files(tmp_path: Path) -> dict[str, Path]:
    new = {**OLD, "label": "new", "experiments": {"button_color": {"salt": "b", "groups": GROUPS}}}
    new["gates"] = {**OLD["gates"], "new_checkout": [str(i) for i in range(0, 300, 3) if i != 9]}
    users = tmp_path / "users.jsonl"
    users.write_text(
        "".join(json.dumps({"user_id": str(i), "plan": "pro"}) + "\n" for i in range(300))
    )
    return {
        "old": write(tmp_path / "old.json", OLD),
        "new": write(tmp_path / "new.json", new),
        "users": users,
    }


def run(*args: str) -> Any:
    return CliRunner().invoke(cli, list(args), catch_exceptions=False)


def test_parse_spec_forms(tmp_path: Path) -> None:
    assert parse_spec("passall") == {"provider": "passall"}
    assert parse_spec("local:path=a.yaml,watch=false") == {
        "provider": "local",
        "path": "a.yaml",
        "watch": False,
    }
    assert parse_spec("statsig", ("bootstrap=s.json",)) == {
        "provider": "statsig",
        "bootstrap": "s.json",
    }
    spec = write(tmp_path / "s.json", {"provider": "table", "label": "x"})
    assert parse_spec(f"@{spec}") == {"provider": "table", "label": "x"}
    with pytest.raises(click.BadParameter, match="provider"):
        parse_spec(f"@{write(tmp_path / 'bad.json', {'label': 'x'})}")


def test_compare_json_reports_every_flag(files: dict[str, Path]) -> None:
    result = run(
        "compare", "--from", f"@{files['old']}", "--to", f"@{files['new']}",
        "--users", str(files["users"]), "--json", "--no-progress",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    assert report["users"] == 300
    flags = report["flags"]
    assert set(flags) == {"new_checkout", "everyone", "button_color", "pricing"}
    assert flags["everyone"]["assessment"]["verdict"] == Verdict.AGREE
    gate = flags["new_checkout"]
    assert (gate["compared"], gate["mismatches"]) == (300, 1)
    assert gate["assessment"]["verdict"] == Verdict.MISMATCH
    assert gate["examples"] == [{"user_id": "9", "field": "value", "from": True, "to": False}]
    assert flags["button_color"]["assessment"]["verdict"] == Verdict.DIFFERENT_BUCKETING


def test_compare_table_csv_and_exit_code(files: dict[str, Path]) -> None:
    args = [
        "compare",
        "--from",
        f"@{files['old']}",
        "--to",
        f"@{files['new']}",
        "--users",
        str(files["users"]),
    ]
    table = run(*args, "--fail-on-mismatch")
    assert table.exit_code == 1
    assert "new_checkout" in table.output
    assert "user 9: value True → False" in table.output
    rows = list(csv.DictReader(io.StringIO(run(*args, "--csv").stdout)))
    by_flag = {r["flag"]: r for r in rows}
    assert by_flag["pricing"]["agreement"] == "1.000000"
    assert by_flag["new_checkout"]["mismatches"] == "1"


def test_compare_reads_a_users_file_with_a_byte_order_mark_and_refuses_deep_json(
    files: dict[str, Path],
) -> None:
    # A users file saved by a Windows editor starts with a byte-order mark: line 1 was
    # "not a user (Unexpected UTF-8 BOM ...)". A line nested thousands deep was an
    # internal error (RecursionError), reported as a bug in flagport.
    users = files["users"]
    users.write_bytes(b"\xef\xbb\xbf" + users.read_bytes())
    args = ["compare", "--from", f"@{files['old']}", "--to", f"@{files['new']}"]
    result = run(*args, "--users", str(users), "--json", "--no-progress")
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["users"] == 300
    users.write_text('{"user_id": "1"}\n' + "[" * 100_000 + "]" * 100_000 + "\n")
    result = CliRunner().invoke(cli, [*args, "--users", str(users), "--no-progress"])
    assert result.exit_code == 1
    assert f"{users}:2: not a user (JSON nested too deeply to read)" in result.output


def test_compare_reports_bad_provider_options(files: dict[str, Path]) -> None:
    result = CliRunner().invoke(
        cli,
        ["compare", "--from", "table:gatez={}", "--to", "passall", "--users", str(files["users"])],
    )
    assert result.exit_code == 1  # bad input, not a bug (issue 12)
    assert "migration.from.gatez" in result.output


def test_deeply_nested_evidence_is_bad_input_not_a_bug(tmp_path: Path) -> None:
    # Each was an internal error (RecursionError), reported as a bug in flagport.
    deep = "[" * 100_000 + "]" * 100_000 + "\n"
    evidence, log = write(tmp_path / "stats.json", {}), tmp_path / "m.jsonl"
    evidence.write_text(deep)
    log.write_text(deep)
    result = CliRunner().invoke(cli, ["migrate", "plan", str(evidence)])
    assert result.exit_code == 1
    assert "nested too deep to read" in result.output
    for command in ("report", "plan"):
        result = CliRunner().invoke(cli, ["migrate", command, str(log)])
        assert result.exit_code == 1
        assert "is not a mismatch log" in result.output
        assert "(1 other line)" in result.output


def test_report_and_plan_from_a_live_log(tmp_path: Path) -> None:
    log = tmp_path / "m.jsonl"
    new = {**OLD, "label": "new", "gates": {**OLD["gates"], "new_checkout": ["0"]}}
    provider = MigrationProvider.from_options(
        **{"from": OLD, "to": new},
        stage="shadow",
        stages={"pricing": "live"},
        compare_on="caller",
        mismatch_log=str(log),
    )
    provider.start()
    for i in range(300):
        user = User(user_id=str(i))
        provider.check_gate(user, "new_checkout")
        provider.check_gate(user, "everyone")
        provider.evaluate_config(user, "pricing")
    provider.shutdown()

    report = json.loads(run("migrate", "report", str(log), "--json", "--min-sample", "100").output)
    assert report["runs"] == 1
    gate = report["flags"]["new_checkout"]
    assert (gate["compared"], gate["mismatches"]) == (300, 99)
    assert gate["units_with_mismatches"] == 99
    assert gate["top_mismatches"][0] == {"field": "value", "from": True, "to": False, "count": 99}
    table = run("migrate", "report", str(log))
    assert "new_checkout" in table.output

    control = tmp_path / "control.toml"
    plan = json.loads(
        run(
            "migrate",
            "plan",
            str(log),
            "--json",
            "--min-sample",
            "100",
            "--write-control",
            str(control),
        ).output
    )
    assert plan["everyone"] == {
        "stage": "shadow",
        "verdict": Verdict.AGREE,
        "ready": True,
        "next_stage": "live",
        "reason": "100.00% of 300 evaluations agree",
    }
    assert plan["pricing"]["next_stage"] == "to"
    assert plan["new_checkout"]["ready"] is False
    assert tomllib.loads(control.read_text())["stages"] == {"everyone": "live", "pricing": "to"}
    # Too few comparisons for the default minimum sample: nothing is ready.
    strict = json.loads(run("migrate", "plan", str(log), "--json").output)
    assert strict["everyone"]["ready"] is False


def test_plan_reads_stats_and_compare_output(tmp_path: Path, files: dict[str, Path]) -> None:
    out = run(
        "compare", "--from", f"@{files['old']}", "--to", f"@{files['new']}",
        "--users", str(files["users"]), "--json",
    ).output  # fmt: skip
    source = tmp_path / "compare.json"
    source.write_text(out)
    plan = json.loads(run("migrate", "plan", str(source), "--json", "--min-sample", "100").output)
    assert plan["pricing"]["stage"] == "offline"
    assert plan["pricing"]["next_stage"] == "shadow"
    assert plan["pricing"]["ready"] is True
    assert plan["new_checkout"]["ready"] is False
    bad = CliRunner().invoke(cli, ["migrate", "plan", str(write(tmp_path / "x.json", {"a": 1}))])
    assert bad.exit_code == 1  # bad input, not a bug (issue 12)
    assert "no per-flag evidence" in bad.output


def test_plan_replaces_the_control_file_in_one_step(tmp_path: Path, files: dict[str, Path]) -> None:
    # Running migration providers watch the control file: it was rewritten in place,
    # so one of them could read it halfway.
    out = run(
        "compare", "--from", f"@{files['old']}", "--to", f"@{files['new']}",
        "--users", str(files["users"]), "--json",
    ).output  # fmt: skip
    source = write(tmp_path / "compare.json", json.loads(out))
    control = tmp_path / "control.toml"
    control.write_text('[stages]\nnew_checkout = "from"\n')
    before = control.stat().st_ino
    run("migrate", "plan", str(source), "--min-sample", "100", "--write-control", str(control))
    assert control.stat().st_ino != before
    assert tomllib.loads(control.read_text())["stages"]["pricing"] == "shadow"
    assert not [p for p in tmp_path.iterdir() if p.name.endswith(".tmp")]


def _run_once(log: Path, new: dict[str, Any]) -> None:
    provider = MigrationProvider.from_options(
        **{"from": OLD, "to": new}, stage="shadow", compare_on="caller", mismatch_log=str(log)
    )
    provider.start()
    for i in range(200):
        provider.check_gate(User(user_id=str(i)), "new_checkout")
    provider.shutdown()


def test_since_keeps_only_runs_after_a_fix(tmp_path: Path) -> None:
    log = tmp_path / "m.jsonl"
    broken = {**OLD, "label": "new", "gates": {**OLD["gates"], "new_checkout": []}}
    _run_once(log, broken)
    fixed_at = time.time()
    time.sleep(0.01)  # records carry millisecond times
    _run_once(log, {**OLD, "label": "new"})
    everything = json.loads(run("migrate", "report", str(log), "--json").output)
    assert everything["runs"] == 2
    assert everything["flags"]["new_checkout"]["mismatches"] == 67
    after = json.loads(
        run("migrate", "report", str(log), "--json", "--since", str(fixed_at)).output
    )
    assert after["runs"] == 1
    assert after["flags"]["new_checkout"]["mismatches"] == 0
    iso = datetime.fromtimestamp(fixed_at, UTC).isoformat()
    plan = json.loads(
        run("migrate", "plan", str(log), "--json", "--min-sample", "100", "--since", iso).output
    )
    assert plan["new_checkout"]["ready"] is True
    bad = CliRunner().invoke(cli, ["migrate", "report", str(log), "--since", "yesterday"])
    assert bad.exit_code == 2
    assert "ISO 8601" in bad.output


def test_a_flag_moved_to_the_new_provider_is_done(tmp_path: Path) -> None:
    log = tmp_path / "m.jsonl"
    _run_once(log, {**OLD, "label": "new"})
    provider = MigrationProvider.from_options(
        **{"from": OLD, "to": {**OLD, "label": "new"}}, stage="to", mismatch_log=str(log)
    )
    provider.start()
    provider.check_gate(User(user_id="1"), "new_checkout")
    provider.shutdown()
    plan = json.loads(run("migrate", "plan", str(log), "--json", "--min-sample", "100").output)
    assert plan["new_checkout"]["stage"] == "to"
    assert plan["new_checkout"]["next_stage"] == "done"


def test_compare_renames_groups_through_a_group_map(tmp_path: Path, files: dict[str, Path]) -> None:
    renamed = {"Control": GROUPS["control"], "Blue": GROUPS["blue"]}
    old = write(
        tmp_path / "renamed.json",
        {**OLD, "experiments": {"button_color": {"salt": "a", "groups": renamed}}},
    )
    mapping = tmp_path / "groups.toml"
    mapping.write_text('[button_color]\nControl = "control"\nBlue = "blue"\n')
    args = [
        "compare",
        "--from",
        f"@{old}",
        "--to",
        f"@{files['old']}",
        "--users",
        str(files["users"]),
        "--json",
    ]
    without = json.loads(run(*args).output)["flags"]["button_color"]
    assert without["mismatches"] == 300
    mapped = json.loads(run(*args, "--group-map", str(mapping)).output)["flags"]["button_color"]
    assert (mapped["mismatches"], mapped["assessment"]["verdict"]) == (0, Verdict.AGREE)


def _compare(files: dict[str, Path], *extra: str, users: Path | None = None) -> Any:
    return CliRunner().invoke(
        cli,
        ["compare", "--from", f"@{files['old']}", "--to", f"@{files['new']}", "--users",
         str(users or files["users"]), *extra],
    )  # fmt: skip


def test_compare_refuses_an_empty_users_file(tmp_path: Path, files: dict[str, Path]) -> None:
    empty = tmp_path / "empty.jsonl"
    empty.write_text("\n")
    for extra in ((), ("--fail-on-mismatch",)):
        result = _compare(files, *extra, users=empty)
        assert result.exit_code == 1
        assert f"the users file {empty} holds no users, so nothing can be compared" in (
            result.stderr
        )


def test_fail_on_mismatch_fails_when_no_flag_was_compared(tmp_path: Path) -> None:
    nothing = write(tmp_path / "nothing.json", {"provider": "table"})
    users = tmp_path / "users.jsonl"
    users.write_text('{"user_id": "1"}\n')
    args = ["compare", "--from", f"@{nothing}", "--to", f"@{nothing}", "--users", str(users)]
    assert run(*args).exit_code == 0
    result = CliRunner().invoke(cli, [*args, "--fail-on-mismatch"])
    assert result.exit_code == 1
    assert "nothing was compared" in result.stderr


def test_report_and_plan_refuse_a_file_that_is_not_a_mismatch_log(tmp_path: Path) -> None:
    other = tmp_path / "events.jsonl"
    other.write_text('{"event": "purchase"}\nnot json\n')
    for command in ("report", "plan"):
        result = CliRunner().invoke(cli, ["migrate", command, str(other)])
        assert result.exit_code == 1
        assert f"{other} is not a mismatch log: no line is a flagport migration record" in (
            result.stderr
        )
        assert "(2 other lines)" in result.stderr
        assert "mismatch_log" in result.stderr


def test_report_refuses_a_since_that_leaves_no_run(tmp_path: Path) -> None:
    log = tmp_path / "m.jsonl"
    _run_once(log, {**OLD, "label": "new"})
    result = CliRunner().invoke(cli, ["migrate", "report", str(log), "--since", "2999-01-01"])
    assert result.exit_code == 1
    assert f"the mismatch log {log} holds no run started at or after 2999-01-01" in result.stderr


def test_report_since_reads_the_log_once(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # Before, --since read the whole log a second time to tell "not a mismatch log" from
    # "no run since then".
    import flagport.cli.migrate as migrate_cli

    log = tmp_path / "m.jsonl"
    _run_once(log, {**OLD, "label": "new"})
    reads: list[float | None] = []
    read_log = migrate_cli.read_log

    def counting(path: Path, since: float | None = None) -> Any:
        reads.append(since)
        return read_log(path, since)

    monkeypatch.setattr(migrate_cli, "read_log", counting)
    late = CliRunner().invoke(cli, ["migrate", "report", str(log), "--since", "2999-01-01"])
    assert late.exit_code == 1
    assert "holds no run started at or after 2999-01-01" in late.stderr
    assert len(reads) == 1
    early = run("migrate", "report", str(log), "--json", "--since", "2000-01-01")
    assert json.loads(early.output)["runs"] == 1
    assert len(reads) == 2


def test_tables_keep_long_and_bracketed_names_off_a_terminal(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("COLUMNS", raising=False)
    long = "checkout_" + "very_long_segment_" * 6 + "end"
    gates = {long: ["1"], "beta[eu]": ["1"]}
    old = write(tmp_path / "old.json", {"provider": "table", "gates": gates})
    new = write(tmp_path / "new.json", {"provider": "table", "gates": {**gates, "beta[eu]": []}})
    users = tmp_path / "users.jsonl"
    users.write_text('{"user_id": "1"}\n{"user_id": "2"}\n')
    result = run("compare", "--from", f"@{old}", "--to", f"@{new}", "--users", str(users))
    assert "table → table: 2 users, 2 flags" in result.stdout
    assert f"│ {long} │" in result.stdout
    assert "│ beta[eu] " in result.stdout
    assert "insufficient" in result.stdout  # the verdict column is not cut either
    assert "…" not in result.stdout
    assert "  beta[eu] user 1: value True → False" in result.stdout

    log = tmp_path / "m.jsonl"
    provider = MigrationProvider.from_options(
        **{"from": json.loads(old.read_text()), "to": json.loads(new.read_text())},
        stage="shadow",
        compare_on="caller",
        mismatch_log=str(log),
    )
    provider.start()
    for uid in ("1", "2"):
        provider.check_gate(User(user_id=uid), "beta[eu]")
        provider.check_gate(User(user_id=uid), long)
    provider.shutdown()
    report = run("migrate", "report", str(log))
    assert f"{log}: 1 run, 1 mismatch line," in report.stdout
    assert f"│ {long} │" in report.stdout
    assert "…" not in report.stdout
    assert "  beta[eu] value: True → False x1 (1 distinct unit)" in report.stdout


def test_report_title_is_one_line_off_a_terminal(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("COLUMNS", raising=False)
    log = tmp_path / ("a_long_directory_name_" * 4) / "m.jsonl"
    log.parent.mkdir()
    _run_once(log, {**OLD, "label": "new"})
    title = run("migrate", "report", str(log)).stdout.splitlines()[0].strip()
    assert title.startswith(f"{log}: 1 run, 0 mismatch lines, ")
    assert title.endswith(" UTC")
