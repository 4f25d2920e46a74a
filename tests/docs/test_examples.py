"""Every example in the documentation, the READMEs and the examples' READMEs runs as written.

Each page's Python blocks run in order in one namespace (a reader's session), in a
fresh directory holding the example flags file as ``flags.yaml`` and
``examples/flags.yaml``. Its shell commands ``flagport …`` / ``uv run flagport …``
(and, on pages that drive the example scripts, ``python script.py …``) run there too.
A block that is not meant to run is preceded by ``<!-- not run: the reason -->``.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from click.testing import CliRunner
from example_scripts import run_script

from flagport.cli import cli
from flagport_featbit.testing import data_sync, scenario_flags

ROOT = Path(__file__).resolve().parents[2]
FLAGS = ROOT / "examples" / "flags.yaml"
MIGRATION = ROOT / "examples" / "migration"
PAGES = sorted(
    str(p.relative_to(ROOT))
    for pattern in ["README.md", "*/README.md", "*/*/README.md", "docs/**/*.md"]
    for p in ROOT.glob(pattern)
    if ".venv" not in p.parts and "benchmarks" not in p.parts
)
# Pages whose commands are one whole run, tested as such by their own test module.
COVERED_ELSEWHERE = {
    "examples/migration/README.md": "tests/docs/test_migration_example.py",
    "docs/migrating-to-local.md": "tests/docs/test_migrating_to_local.py",
}
# Pages whose Python blocks are sketches for frameworks flagport does not depend on.
PYTHON_ELSEWHERE = {
    "docs/pytest.md": "Django/Flask/FastAPI sketches; the plugin: tests/pytest_flagport",
    "docs/web.md": "Flask/Starlette sketches; its WSGI example: tests/core/test_middleware.py",
    "docs/django.md": "settings and views of a Django project: tests/django, examples/django_app",
    "docs/flask.md": "a Flask app factory: tests/flask, examples/flask_app",
    "docs/fastapi.md": "a FastAPI app: tests/fastapi, examples/fastapi_app",
    "contrib/django/README.md": "as docs/django.md",
    "contrib/flask/README.md": "as docs/flask.md",
    "contrib/fastapi/README.md": "as docs/fastapi.md",
    "docs/sticky.md": "vendor sketches; its migration example: tests/core/sticky/test_docs.py",
    "docs/migrating-to-local.md": "one session with its commands: test_migrating_to_local.py",
}
# Pages working in examples/migration, whose data make_data.py writes first.
IN_MIGRATION_EXAMPLE = {"docs/migration.md"}
NOT_RUN = "<!-- not run:"
FENCE = re.compile(r"^```(?P<lang>[\w-]*)\n(?P<body>.*?)^```", re.DOTALL | re.MULTILINE)
COMMAND = re.compile(r"^(?:\$ )?(?:uv run )?(?P<cmd>(?:flagport|python) .*)$")


@dataclass
class Page:
    path: str
    python: list[tuple[int, str]] = field(default_factory=list)
    commands: list[tuple[int, str]] = field(default_factory=list)
    not_run: list[str] = field(default_factory=list)


def read(path: str) -> Page:
    text = (ROOT / path).read_text()
    page = Page(path)
    for match in FENCE.finditer(text):
        line = text.count("\n", 0, match.start()) + 2
        before = text[: match.start()].rstrip("\n").rsplit("\n", 1)[-1]
        if before.startswith(NOT_RUN):
            page.not_run.append(f"{path}:{line}")
            continue
        lang, body = match.group("lang"), match.group("body")
        if lang == "python":
            page.python.append((line, body))
        elif lang in {"", "bash", "console", "text", "shell"}:
            page.commands.extend((line + i, cmd) for i, cmd in shell_commands(body))
    return page


def shell_commands(body: str) -> Iterator[tuple[int, str]]:
    """``(line offset, command)`` of each command; ``\\`` continues a command's line."""
    lines = body.splitlines()
    i = 0
    while i < len(lines):
        start, text = i, lines[i]
        while text.endswith("\\") and i + 1 < len(lines):
            i += 1
            text = text[:-1] + " " + lines[i].strip()
        found = COMMAND.match(text.split("  #", 1)[0].strip())
        if found:
            yield start, found.group("cmd")
        i += 1


ALL = [read(p) for p in PAGES]


@pytest.fixture
def workdir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    (tmp_path / "examples").mkdir()
    shutil.copy(FLAGS, tmp_path / "examples" / "flags.yaml")
    shutil.copy(FLAGS, tmp_path / "flags.yaml")
    featbit = data_sync(scenario_flags())
    (tmp_path / "featbit-flags.json").write_text(json.dumps(featbit))
    for payload in (ROOT / "examples" / "import").glob("*.json"):  # docs/importing.md
        shutil.copy(payload, tmp_path)
    monkeypatch.chdir(tmp_path)
    for key in [k for k in os.environ if k.startswith("FLAGPORT_")]:
        monkeypatch.delenv(key)
    return tmp_path


def test_the_pages_are_found() -> None:
    assert {"README.md", "core/README.md", "docs/index.md", "docs/migration.md"} <= set(PAGES)
    assert "providers/statsig/README.md" in PAGES


def test_few_blocks_are_not_run() -> None:
    not_run = [where for page in ALL for where in page.not_run]
    assert len(not_run) <= 8, not_run


@pytest.mark.parametrize(
    "page", [p for p in ALL if p.python and p.path not in PYTHON_ELSEWHERE], ids=lambda p: p.path
)
def test_python_examples_run(page: Page, workdir: Path) -> None:
    namespace: dict[str, object] = {"__name__": "docs_example"}
    for line, code in page.python:
        exec(compile(code, f"{page.path}:{line}", "exec"), namespace)


@pytest.mark.parametrize(
    "page",
    [p for p in ALL if p.commands and p.path not in COVERED_ELSEWHERE],
    ids=lambda p: p.path,
)
def test_shell_commands_run(page: Page, workdir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    if page.path in IN_MIGRATION_EXAMPLE:
        for path in MIGRATION.iterdir():
            shutil.copy(path, workdir)
        run_script(["make_data.py", "--users", "300"])
    for line, command in page.commands:
        argv = shlex.split(command)
        if argv[0] == "python":
            assert page.path in IN_MIGRATION_EXAMPLE, f"{page.path}:{line}: {command}"
            run_script(argv[1:])
            continue
        result = CliRunner().invoke(cli, argv[1:], catch_exceptions=False)
        assert result.exit_code == 0, f"{page.path}:{line}: {command}\n{result.output}"
    capsys.readouterr()


def test_the_readme_example_answers_as_it_says(workdir: Path) -> None:
    (page,) = [p for p in ALL if p.path == "README.md"]
    namespace: dict[str, object] = {"__name__": "readme"}
    for line, code in page.python:
        exec(compile(code, f"README.md:{line}", "exec"), namespace)
    assert namespace["color"] in {"gray", "blue", "green"}
    assert namespace["discount"] == 0.1  # the example user is on the pro plan


def pasted_output(path: str, command: str) -> str:
    """The lines a page shows after ``$ command``, up to the next command or the fence."""
    text = (ROOT / path).read_text()
    after = text[text.index(f"$ {command}\n") + len(command) + 3 :]
    lines = []
    for line in after.splitlines():
        if line.startswith(("$ ", "```")):
            break
        lines.append(line)
    return "\n".join(lines)


@pytest.mark.parametrize(
    ("path", "command"),
    [
        (
            "docs/importing.md",
            "flagport import growthbook growthbook_features.json --output imported.yaml "
            "--verify-random 200",
        )
    ],
)
def test_pasted_output_is_what_the_command_prints(
    path: str, command: str, workdir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The page showed a table of three flags, none of them in the payload it named.
    monkeypatch.delenv("COLUMNS", raising=False)  # pasted from a run off a terminal
    result = CliRunner().invoke(cli, shlex.split(command)[1:], catch_exceptions=False)
    assert result.exit_code == 0
    printed = "\n".join(line.rstrip() for line in result.stdout.splitlines())
    assert printed == pasted_output(path, command)
