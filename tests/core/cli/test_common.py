"""``--user`` as the commands read it (``flagport.cli._common``)."""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner

from flagport.cli import cli

EXAMPLE = str(Path(__file__).parents[3] / "examples" / "flags.yaml")


def _eval(user: str) -> str:
    result = CliRunner().invoke(cli, ["eval", EXAMPLE, "gate", "new_checkout", "--user", user])
    assert result.exit_code == 0, result.output
    return result.stderr


def test_a_key_like_a_misspelt_field_gets_a_hint() -> None:
    # {"userid": "1"} was a custom attribute, silently: the gate saw no user_id and
    # answered as for a user without one.
    said = _eval('{"userid": "1", "contry": "US"}')
    assert "hint: --user key 'userid' is taken as a custom attribute; did you mean 'user_id'?" in (
        said
    )
    assert "did you mean 'country'?" in said


def test_attributes_named_on_purpose_get_none() -> None:
    assert _eval('{"user_id": "1", "userid": "2", "email_hash": "x", "plan": "pro"}') == ""
