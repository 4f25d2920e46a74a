"""Hostile command-line arguments get a usage error saying what is wrong: JSON
(``--user``, ``--option key=value``) nested deeper than Python's parser goes, a FILE or
KIND longer than any file name. Not "internal error: this is a bug in flagport", not an
OSError."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from flagport.cli import cli

EXAMPLE = str(Path(__file__).parents[3] / "examples" / "flags.yaml")
DEEP = "[" * 100_000 + "]" * 100_000


@pytest.mark.parametrize(
    ("extra", "where"),
    [
        (["--user", DEEP], "--user"),
        (["--user", '{"user_id": "1", "custom": {"a": ' + DEEP + "}}"], "--user"),
        (["--user", '{"user_id": "1"}', "--option", f"headers={DEEP}"], "--option"),
    ],
)
def test_json_nested_too_deeply_is_a_usage_error(extra: list[str], where: str) -> None:
    result = CliRunner().invoke(cli, ["eval", EXAMPLE, "gate", "new_checkout", *extra])
    assert result.exit_code == 2, result.output
    assert "internal error" not in result.output
    assert where in result.output
    assert "nested too deeply" in result.output


def test_json_nested_as_deep_as_a_user_might_still_works() -> None:
    user = '{"user_id": "1", "custom": {"a": ' + "[" * 200 + "]" * 200 + "}}"
    result = CliRunner().invoke(cli, ["eval", EXAMPLE, "gate", "new_checkout", "--user", user])
    assert result.exit_code == 0, result.output


@pytest.mark.parametrize("args", [["a" * 10_000, "name"], ["a" * 10_000, "gate", "name"]])
def test_an_argument_longer_than_a_file_name_is_a_usage_error(args: list[str]) -> None:
    result = CliRunner().invoke(cli, ["eval", *args])
    assert result.exit_code == 2, result.output
    assert "OSError" not in result.output
    assert "is not a file" in result.output or "is not one of" in result.output
    assert len(result.output) < 2_000  # the argument is shortened, not echoed whole
