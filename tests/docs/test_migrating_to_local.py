"""docs/migrating-to-local.md runs as written, and prints what the page shows.

The page is one session in one folder: its ``# flagport.toml`` blocks are written to
``flagport.toml`` when reached, its Python block (the traffic) runs where the page runs
it, and its ``$ flagport …`` commands run through the CLI. Every line of output the
page pastes (the tables, the ``served:`` counts) must be a line of the real output, so
the page cannot drift from what the commands print: among others, that ``flagport
migrate plan`` reports ``agree`` for the gate, the config **and** the experiment.
"""

from __future__ import annotations

import contextlib
import io
import os
import re
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from flagport import Flagport, User
from flagport.cli import cli

ROOT = Path(__file__).resolve().parents[2]
PAGE = ROOT / "docs" / "migrating-to-local.md"
FENCE = re.compile(r"^```(?P<lang>[\w-]*)\n(?P<body>.*?)^```", re.DOTALL | re.MULTILINE)
WIDTH = "100"  # the terminal width the page's tables were printed at


def _lines(text: str) -> list[str]:
    return [line.rstrip() for line in text.splitlines() if line.strip()]


def _commands(body: str) -> list[tuple[str, list[str]]]:
    """``(command, the output lines the page shows for it)`` of a console block."""
    found: list[tuple[str, list[str]]] = []
    for line in body.splitlines():
        if line.startswith("$ "):
            found.append((line[2:], []))
        elif found and line.strip():
            found[-1][1].append(line.rstrip())
    return found


def _shown_in(shown: list[str], printed: str, where: str) -> None:
    actual = set(_lines(printed))
    missing = [line for line in shown if line.strip() and line.rstrip() not in actual]
    assert not missing, f"{where}: the page shows lines the command did not print:\n" + (
        "\n".join(missing) + f"\n--- printed:\n{printed}"
    )


@pytest.fixture
def session(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    shutil.copy(ROOT / "examples" / "import" / "growthbook_features.json", tmp_path)
    monkeypatch.chdir(tmp_path)
    for key in [k for k in os.environ if k.startswith("FLAGPORT_")]:
        monkeypatch.delenv(key)
    monkeypatch.setenv("COLUMNS", WIDTH)
    return tmp_path


def test_the_page_runs_as_written_and_shows_real_output(session: Path) -> None:
    text = PAGE.read_text(encoding="utf-8")
    traffic: str | None = None
    ran: list[str] = []
    for match in FENCE.finditer(text):
        lang, body = match.group("lang"), match.group("body")
        where = f"{PAGE.name}:{text.count(chr(10), 0, match.start()) + 2}"
        if lang == "toml" and body.startswith("# flagport.toml"):
            (session / "flagport.toml").write_text(body, encoding="utf-8")
        elif lang == "python":
            traffic = body
        elif lang == "text" and body.startswith("served:"):
            assert traffic is not None, f"{where}: output shown before any code"
            printed = io.StringIO()
            with contextlib.redirect_stdout(printed):
                exec(compile(traffic, where, "exec"), {"__name__": "docs_traffic"})
            _shown_in(_lines(body), printed.getvalue(), where)
            ran.append("traffic")
        elif lang == "text":
            for command, shown in _commands(body):
                assert command.startswith("flagport "), f"{where}: {command}"
                result = CliRunner(env={"COLUMNS": WIDTH}).invoke(
                    cli, command.split()[1:], catch_exceptions=False
                )
                assert result.exit_code == 0, f"{where}: {command}\n{result.output}"
                _shown_in(shown, result.output, f"{where}: {command}")
                ran.append(command.split()[1])
    assert ran == ["import", "traffic", "migrate", "traffic", "migrate"]
    # The configuration the page keeps answers from the flags file alone.
    with Flagport.from_settings() as fp:
        result = fp.get_experiment(
            User(user_id="u1", custom={"id": "u1", "age": 30}), "checkout_button"
        )
    assert result.provider == "local"
