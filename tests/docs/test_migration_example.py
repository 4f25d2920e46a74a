"""examples/migration: the worked migration, run end to end on a smaller sample."""

from __future__ import annotations

import csv
import io
import os
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner
from example_scripts import run_script

from flagport.cli import cli

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "migration"
SIDES = [
    "--from",
    "statsig:offline=true,bootstrap=statsig_specs.json",
    "--to",
    "growthbook:offline=true,bootstrap=growthbook_features.json",
]


def run_script_output(name: str, *args: str, capsys: pytest.CaptureFixture[str]) -> str:
    run_script([name, *args])
    return capsys.readouterr().out


def flagport(*args: str) -> str:
    """The command's standard output (what a pipe or ``> file.csv`` gets)."""
    result = CliRunner().invoke(cli, list(args), catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return result.stdout


def test_the_migration_example_runs_from_compare_to_finish(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    for path in EXAMPLE.iterdir():
        shutil.copy(path, tmp_path)
    monkeypatch.chdir(tmp_path)
    for key in [k for k in os.environ if k.startswith("FLAGPORT_")]:
        monkeypatch.delenv(key)

    run_script_output("make_data.py", "--users", "400", capsys=capsys)
    rows = {
        r["flag"]: r
        for r in csv.DictReader(
            io.StringIO(flagport("compare", *SIDES, "--users", "users.jsonl", "--csv"))
        )
    }
    assert rows["pricing"]["verdict"] == "mismatch"  # the typo is found
    assert rows["button_color"]["verdict"] == "expected: different bucketing"

    run_script_output("make_data.py", "--users", "400", "--fixed", capsys=capsys)
    rows = {
        r["flag"]: r
        for r in csv.DictReader(
            io.StringIO(flagport("compare", *SIDES, "--users", "users.jsonl", "--csv"))
        )
    }
    assert rows["pricing"]["verdict"] == "agree"

    served = run_script_output("traffic.py", capsys=capsys)
    assert "('new_checkout', 'statsig'): 400" in served  # shadow: Statsig serves everyone
    assert "growthbook" not in served
    assert "1 run," in flagport("migrate", "report", "mismatches.jsonl")
    flagport(
        "migrate",
        "plan",
        "mismatches.jsonl",
        "--min-sample",
        "100",
        "--write-control",
        "migration-control.toml",
    )
    assert 'pricing" = "live"' in Path("migration-control.toml").read_text()

    Path("migration-control.toml").write_text(
        '[stages]\npricing = "live"\nnew_checkout = "live"\n[ramp]\nnew_checkout = 10\n'
    )
    served = run_script_output("traffic.py", capsys=capsys)
    assert "('pricing', 'growthbook')" in served
    assert "('pricing', 'statsig')" not in served
    assert "('new_checkout', 'growthbook')" in served
    assert "('new_checkout', 'statsig')" in served

    Path("migration-control.toml").write_text('stage = "to"\n')
    served = run_script_output("traffic.py", capsys=capsys)
    assert "statsig" not in served
    plan = flagport("migrate", "plan", "mismatches.jsonl")
    assert plan.count("done") >= 3
