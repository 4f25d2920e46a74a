"""``flagport eval`` and ``flagport explain`` on a name that is not in the flags file, and
``flagport eval`` on a flags file with problems."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from flagport.cli import cli

EXAMPLE = str(Path(__file__).parents[3] / "examples" / "flags.yaml")


def test_eval_of_an_unknown_flag_suggests_the_close_one() -> None:
    result = CliRunner().invoke(cli, ["eval", EXAMPLE, "gate", "new_chekout"])
    assert result.exit_code == 1
    assert "FLAG_NOT_FOUND" in result.stdout
    assert "hint: no gate 'new_chekout'; did you mean 'new_checkout'?" in result.stderr
    json_mode = CliRunner().invoke(cli, ["eval", EXAMPLE, "experiment", "buton_color", "--json"])
    assert json_mode.exit_code == 1
    assert "did you mean 'button_color'?" in json_mode.stderr


def test_eval_of_a_name_close_to_nothing_gives_no_hint() -> None:
    result = CliRunner().invoke(cli, ["eval", EXAMPLE, "config", "zzzzzz"])
    assert result.exit_code == 1
    assert "did you mean" not in result.output


def test_explain_of_an_unknown_flag_suggests_the_close_one() -> None:
    result = CliRunner().invoke(cli, ["explain", EXAMPLE, "gate", "new_chekout"])
    assert result.exit_code == 1
    assert "did you mean 'new_checkout'?" in result.stderr


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        (
            "gates:\n  x:\n    rulez: []\n",
            "  {file}:3 gates.x.rulez: unknown key 'rulez'; did you mean",
        ),
        ("gates:\n\tx: {}\n", "  {file}:2: syntax error: "),
        ("", "error: {file}: the flags file is empty; define at least one of"),
    ],
)
def test_eval_of_a_file_with_problems_reports_them_as_validate_does(
    tmp_path: Path, text: str, problem: str
) -> None:
    # It served the default and printed the problem three times (a start warning, a
    # serving warning, and the error_message row of a table as wide as the message).
    flags = tmp_path / "flags.yaml"
    flags.write_text(text)
    result = CliRunner().invoke(cli, ["eval", str(flags), "gate", "x"])
    assert result.exit_code == 1
    assert result.stdout == ""
    assert problem.format(file=flags) in result.stderr
    assert result.stderr == CliRunner().invoke(cli, ["validate", str(flags)]).stderr


def test_a_flag_asked_for_as_another_kind_names_its_kind_and_the_command() -> None:
    # The hint was the closest name of the kind asked for: "did you mean 'checkout_copy'?"
    # for the gate new_checkout asked for as an experiment.
    result = CliRunner().invoke(cli, ["eval", EXAMPLE, "experiment", "new_checkout"])
    assert result.exit_code == 1
    assert result.stderr.endswith(
        f"hint: no experiment 'new_checkout'; it is a gate: flagport eval {EXAMPLE} gate "
        "new_checkout\n"
    )
    explained = CliRunner().invoke(cli, ["explain", EXAMPLE, "config", "button_color"])
    assert explained.exit_code == 1
    assert explained.stderr == (
        f"error: no config named 'button_color' in {EXAMPLE}; it is an experiment: "
        f"flagport explain {EXAMPLE} experiment button_color\n"
    )


def test_a_flags_file_with_another_provider_is_a_usage_error() -> None:
    # FILE went to the provider as a 'path' option: "argument path: unknown option 'path'".
    result = CliRunner().invoke(cli, ["eval", EXAMPLE, "gate", "g", "--provider", "passall"])
    assert result.exit_code == 2
    assert (
        "FILE is a flags file, read by the local provider; with --provider passall leave it "
        "out and give that provider's options (--option KEY=VALUE)"
    ) in " ".join(result.stderr.split())


def test_eval_of_a_file_and_a_name_without_a_kind_says_the_kind_is_missing() -> None:
    # It said "Invalid value for KIND: '.../flags.yaml' is not one of gate, experiment,
    # config": the file was taken for the kind.
    result = CliRunner().invoke(cli, ["eval", EXAMPLE, "new_checkout"])
    assert result.exit_code == 2
    assert (
        f"Error: {EXAMPLE!r} is the flags file; give the kind of flag after it: "
        f"flagport eval {EXAMPLE} gate|experiment|config new_checkout"
    ) in " ".join(result.stderr.split())
    missing = CliRunner().invoke(cli, ["eval", "missing.json", "pricing"])
    assert "'missing.json' is the flags file; give the kind" in missing.stderr


def test_eval_of_a_file_and_a_kind_without_a_name_says_the_name_is_missing() -> None:
    # It said "give the kind of flag after it: flagport eval flags.yaml
    # gate|experiment|config gate", taking the kind for the flag's name.
    result = CliRunner().invoke(cli, ["eval", EXAMPLE, "gate"])
    assert result.exit_code == 2
    assert (
        f"Error: {EXAMPLE!r} is the flags file; give the gate's name after gate: "
        f"flagport eval {EXAMPLE} gate NAME"
    ) in " ".join(result.stderr.split())
