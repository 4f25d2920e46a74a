"""``flagport eval`` and ``flagport explain`` on a name that is not in the flags file."""

from __future__ import annotations

from pathlib import Path

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
