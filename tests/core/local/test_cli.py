"""``flagport validate``, ``flagport schema`` and ``flagport explain``."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from flagport.cli import cli
from flagport.providers.local.models import flags_file_schema

ROOT = Path(__file__).parents[3]
EXAMPLE = ROOT / "examples" / "flags.yaml"

BAD = """\
gates:
  new_checkout:
    rules:
      - id: us
        when: {country: US}
      - id: beta
        when: {user_id: {$inGroup: beta}}
      - pass_percentage: 150
experiments:
  e:
    groups:
      - {name: a, weight: 50}
"""


def run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, list(args))
    return result.exit_code, result.stdout, result.stderr


def test_validate_ok_prints_counts() -> None:
    code, out, _ = run("validate", str(EXAMPLE))
    assert code == 0
    assert "5 gates, 6 experiments, 2 configs" in out


def test_validate_reports_every_problem_with_line_and_exits_1(tmp_path: Path) -> None:
    path = tmp_path / "flags.yaml"
    path.write_text(BAD)
    code, _, err = run("validate", str(EXAMPLE), str(path))
    assert code == 1
    assert "3 problems" in err
    assert f"{path}:8 gates.new_checkout.rules[2].pass_percentage" in err
    assert f"{path}:7 gates.new_checkout.rules[1].when.user_id.$inGroup" in err
    assert f"{path}:11 experiments.e.groups: group weights add up to 50" in err


def test_validate_json_output(tmp_path: Path) -> None:
    path = tmp_path / "flags.yaml"
    path.write_text(BAD)
    code, out, _ = run("validate", "--json", str(path), str(EXAMPLE))
    assert code == 1
    report = json.loads(out)
    assert [entry["ok"] for entry in report] == [False, True]
    lines = {p["path"]: p["line"] for p in report[0]["problems"]}
    assert lines["gates.new_checkout.rules[2].pass_percentage"] == 8


def test_validate_missing_file(tmp_path: Path) -> None:
    code, _, err = run("validate", str(tmp_path / "nope.yaml"))
    assert code == 1
    assert "cannot read" in err


def test_validate_reports_a_folder_and_still_checks_the_other_files(tmp_path: Path) -> None:
    # A folder among the files was click's usage error (exit 2): nothing else was checked.
    code, out, err = run("validate", str(tmp_path), str(EXAMPLE))
    assert code == 1
    assert err == f"error: {tmp_path}: is a folder, not a flags file; give the flags file's path\n"
    assert f"ok {EXAMPLE}: 5 gates" in out


def test_schema_prints_the_json_schema(tmp_path: Path) -> None:
    code, out, _ = run("schema")
    assert code == 0
    assert json.loads(out) == flags_file_schema()
    target = tmp_path / "schema.json"
    assert run("schema", "-o", str(target))[0] == 0
    assert json.loads(target.read_text())["title"] == "flagport flags file"


def test_schema_to_a_file_says_what_it_wrote_where_on_stderr(tmp_path: Path) -> None:
    target = tmp_path / "schema.json"
    # Before: nothing at all was printed.
    assert run("schema", "-o", str(target)) == (
        0,
        "",
        f"wrote the flags-file schema to {target}\n",
    )
    reference = tmp_path / "reference.md"
    assert run("schema", "--markdown", "-o", str(reference)) == (
        0,
        "",
        f"wrote the reference tables of the flags file to {reference}\n",
    )


def test_explain_gate_shows_rules_conditions_bucket_and_reason() -> None:
    user = json.dumps({"user_id": "user-42", "country": "DE"})
    code, out, _ = run("explain", str(EXAMPLE), "gate", "new_checkout", "--user", user)
    assert code == 0, out
    assert "rules[0] id='us'" in out
    assert 'country == "US" (got "DE")' in out
    assert "pass_percentage 50% of user_id 'user-42'" in out
    assert "reason SPLIT, rule 'rollout'" in out


def test_explain_json_matches_evaluation() -> None:
    user = json.dumps({"user_id": "12", "app_version": "2.5.0"})
    code, out, _ = run(
        "explain", str(EXAMPLE), "experiment", "button_color", "--user", user, "--json"
    )
    assert code == 0
    story = json.loads(out)
    assert story["result"]["group"] == "blue"
    assert story["result"]["reason"] == "TARGETING_MATCH"
    assert any("overrides: forced into group 'blue'" in s["text"] for s in story["steps"])


def test_explain_experiment_lists_groups_with_ranges() -> None:
    user = json.dumps({"user_id": "user-3", "app_version": "2.5.0"})
    code, out, _ = run("explain", str(EXAMPLE), "experiment", "button_color", "--user", user)
    assert code == 0
    assert "group 'control' weight 34: [0.0000, 0.3400)" in out
    assert "reason SPLIT" in out


def test_explain_config_and_unknown_flag() -> None:
    user = json.dumps({"user_id": "1", "plan": "pro"})
    code, out, _ = run("explain", str(EXAMPLE), "config", "pricing", "--user", user)
    assert code == 0
    assert 'plan == "pro"' in out
    assert "reason TARGETING_MATCH, rule 'pro'" in out
    code, _, err = run("explain", str(EXAMPLE), "gate", "pricing", "--user", user)
    assert code == 1
    assert "no gate named 'pricing'" in err
