"""docs/sticky.md's migration example runs and prints what the page shows."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

ROOT = Path(__file__).parents[3]
PAGE = (ROOT / "docs" / "sticky.md").read_text()
BLOCKS = re.findall(r"```(python|text)\n(.*?)```", PAGE, re.DOTALL)


def test_the_migration_example_prints_what_the_page_shows(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    index = next(i for i, (kind, code) in enumerate(BLOCKS) if "MigrationProvider" in code)
    code, shown = BLOCKS[index][1], BLOCKS[index + 1][1]
    for name in ("old.yaml", "new.yaml"):
        shutil.copy(Path(__file__).parent / "docs_example" / name, tmp_path / name)
    monkeypatch.chdir(tmp_path)
    exec(compile(code, "docs/sticky.md", "exec"), {"__name__": "docs_example"})
    assert capsys.readouterr().out == shown


def test_the_growthbook_import_example_writes_and_serves_what_the_page_shows(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from click.testing import CliRunner

    from flagport.cli import cli

    shutil.copy(Path(__file__).parent / "docs_example" / "checkout_features.json", tmp_path)
    monkeypatch.chdir(tmp_path)
    args = ["import", "growthbook", "checkout_features.json", "-o", "imported.yaml"]
    assert CliRunner().invoke(cli, args, catch_exceptions=False).exit_code == 0
    (written,) = re.findall(r"```yaml\n(# Imported by.*?)```", PAGE, re.DOTALL)
    assert (tmp_path / "imported.yaml").read_text() == written
    index = next(i for i, (kind, code) in enumerate(BLOCKS) if "imported.yaml" in code)
    code, shown = BLOCKS[index][1], BLOCKS[index + 1][1]
    exec(compile(code, "docs/sticky.md", "exec"), {"__name__": "docs_example"})
    assert capsys.readouterr().out == shown
