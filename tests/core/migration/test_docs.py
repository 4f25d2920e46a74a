"""docs/migration.md stays true: its Python runs, its TOML is valid configuration."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import pytest

from flagport.migration import ControlFile, MigrationProvider

PAGE = Path(__file__).resolve().parents[3] / "docs" / "migration.md"
TEXT = PAGE.read_text()


def blocks(language: str) -> list[str]:
    return re.findall(rf"```{language}\n(.*?)```", TEXT, re.DOTALL)


@pytest.mark.parametrize("code", blocks("python"), ids=lambda c: c.split("\n")[0][:30])
def test_python_examples_run(code: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    exec(compile(code, str(PAGE), "exec"), {"__name__": "docs_migration"})


def test_the_settings_example_builds_a_migration_provider() -> None:
    settings = tomllib.loads(blocks("toml")[0])
    assert settings["provider"] == "migration"
    provider = MigrationProvider.from_options(**settings["migration"])
    assert (provider.old.name, provider.new.name) == ("statsig", "growthbook")
    assert provider.stage_of("anything").value == "shadow"


@pytest.mark.parametrize("control", blocks("toml")[1:])
def test_control_file_examples_are_valid(control: str) -> None:
    ControlFile.model_validate(tomllib.loads(control))
