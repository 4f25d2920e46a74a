"""Every example command shown in a ``--help`` text runs as written.

The examples name a flags file ``flags.yaml`` (the repository's example one) and the
files ``examples/migration/make_data.py`` writes (both vendors' offline definitions
and ``users.jsonl``); the test prepares exactly that in a scratch directory, then
runs each example there and expects exit code 0.
"""

from __future__ import annotations

import shlex
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from flagport.cli import cli

ROOT = Path(__file__).parents[3]


def _commands(group: click.Group, path: tuple[str, ...] = ()) -> Iterator[tuple[str, ...]]:
    # Through list_commands/get_command: the root group imports its commands lazily.
    ctx = click.Context(group)
    for name in group.list_commands(ctx):
        command = group.get_command(ctx, name)
        yield (*path, name)
        if isinstance(command, click.Group):
            yield from _commands(command, (*path, name))


def _examples(help_text: str) -> list[str]:
    """The ``flagport ...`` lines of a help text, ``\\`` continuation lines joined."""
    examples: list[str] = []
    parts: list[str] = []
    for raw in help_text.splitlines():
        line = raw.strip()
        if not parts and not line.startswith("flagport "):
            continue
        parts.append(line.removesuffix("\\").strip())
        if not line.endswith("\\"):
            examples.append(" ".join(parts))
            parts = []
    return examples


def _all_examples() -> list[tuple[str, str]]:
    found = []
    for path in _commands(cli):
        text = CliRunner().invoke(cli, [*path, "--help"], terminal_width=200).output
        found += [(" ".join(path), example) for example in _examples(text)]
    return found


EXAMPLES = _all_examples()


def test_the_examples_are_found() -> None:
    # A change in how help is rendered must not make this test check nothing.
    shown = {command for command, _ in EXAMPLES}
    assert {"eval", "validate", "explain", "compare"} <= shown


@pytest.fixture(scope="module")
def workdir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("help-examples")
    shutil.copy(ROOT / "examples" / "flags.yaml", root / "flags.yaml")
    subprocess.run(
        [sys.executable, str(ROOT / "examples" / "migration" / "make_data.py"), "--users", "50"],
        cwd=root,
        check=True,
    )
    return root


@pytest.mark.parametrize(("command", "example"), EXAMPLES)
def test_help_example_runs(
    command: str, example: str, workdir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(workdir)
    argv = shlex.split(example)
    assert argv[0] == "flagport"
    result = CliRunner().invoke(cli, argv[1:])
    where = f"`{example}` (from `flagport {command} --help`)"
    assert result.exit_code == 0, f"{where}:\n{result.output}"
