"""Every command ends the same way on an error.

Exit 1 and a located message for bad input; exit 2 and one line for an internal error
(any exception flagport did not expect), with the traceback only under ``--debug``.
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import click
import pytest
from click.testing import CliRunner, Result

from flagport.cli import cli
from flagport.errors import ConfigurationError


def _recurse(depth: int) -> int:
    return _recurse(depth + 1) + 1


def _raise(kind: str) -> None:
    if kind == "recursion":
        _recurse(0)
    elif kind == "memory":
        raise MemoryError
    elif kind == "bug":
        {}["missing"]  # a KeyError, as a bug would raise it
    elif kind == "config":
        raise ConfigurationError("flags.yaml:3 gates.g: put [growthbook] first")
    elif kind == "os":
        Path("/nonexistent/flags.yaml").read_text()


@pytest.fixture
def failing_command() -> Iterator[None]:
    """A command added to the real group that fails the way it is told to."""

    @click.command("fail-as")
    @click.argument("kind")
    def fail_as(kind: str) -> None:
        _raise(kind)

    cli.add_command(fail_as)
    yield
    del cli.commands["fail-as"]


def run(*args: str, env: dict[str, str] | None = None) -> Result:
    return CliRunner().invoke(cli, list(args), env=env)


@pytest.mark.parametrize(
    ("kind", "error"),
    [
        ("recursion", "RecursionError: maximum recursion depth exceeded"),
        ("memory", "MemoryError"),
        ("bug", "KeyError: 'missing'"),
    ],
)
def test_an_internal_error_is_one_line_and_exit_2(
    failing_command: None, kind: str, error: str
) -> None:
    result = run("fail-as", kind)
    assert result.exit_code == 2
    [line] = result.stderr.splitlines()
    assert line.startswith(f"error: internal error: {error}")
    assert "This is a bug in flagport; run again with 'flagport --debug ...'" in line
    assert "Traceback" not in result.output


@pytest.mark.parametrize(
    ("kind", "message"),
    [
        ("config", "error: flags.yaml:3 gates.g: put [growthbook] first"),
        ("os", "error: FileNotFoundError: [Errno 2] No such file or directory: "),
    ],
)
def test_bad_input_is_a_located_message_and_exit_1(
    failing_command: None, kind: str, message: str
) -> None:
    result = run("fail-as", kind)
    assert result.exit_code == 1
    assert result.stderr.startswith(message)
    assert "Traceback" not in result.output


def test_debug_prints_the_traceback(failing_command: None) -> None:
    for args, env in (
        (["--debug", "fail-as", "bug"], None),
        (["fail-as", "bug"], {"FLAGPORT_DEBUG": "1"}),
    ):
        result = run(*args, env=env)
        assert result.exit_code == 2
        assert "Traceback (most recent call last)" in result.stderr
        assert 'in _raise\n    {}["missing"]' in result.stderr
        assert result.stderr.splitlines()[-1].startswith("error: internal error: KeyError")


def test_usage_errors_stay_clicks(failing_command: None) -> None:
    result = run("fail-as")
    assert result.exit_code == 2
    assert "Missing argument 'KIND'" in result.stderr


def _hostile_files(root: Path) -> list[Path]:
    deep = '{"$not": ' * 3000 + '{"country": "US"}' + "}" * 3000
    nested = root / "nested.json"
    nested.write_text('{"gates": {"g": {"rules": [{"when": ' + deep + "}]}}}")
    digits = root / "digits.yaml"
    digits.write_text("gates:\n  g:\n    rules:\n      - pass_percentage: " + "1" * 5000 + "\n")
    return [nested, digits]


def test_validate_never_prints_a_traceback_and_checks_every_file(tmp_path: Path) -> None:
    """Hostile files get a located problem (1) or, if they hit a bug, one line (2)."""
    good = Path(__file__).parents[3] / "examples" / "flags.yaml"
    files = [*_hostile_files(tmp_path), good]
    # A real process: nothing between the command and the interpreter's own handler.
    done = subprocess.run(
        [sys.executable, "-m", "flagport", "validate", *map(str, files)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode in (1, 2)
    assert "Traceback" not in done.stderr
    assert f"ok {good}:" in done.stdout
    for path in files[:2]:
        assert str(path) in done.stderr
