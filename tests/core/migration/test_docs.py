"""docs/migration.md stays true: its Python runs, its TOML is valid configuration."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import pytest

from flagport.providers.migration import ControlFile, MigrationProvider

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


def test_the_options_table_lists_every_option_with_its_default() -> None:
    from flagport.providers.migration import MigrationOptions

    section = TEXT.split("## Options", 1)[1].split("\n## ", 1)[0]
    rows = re.findall(r"^\| (`[^|]+`) \| ([^|]+) \|", section, re.MULTILINE)
    documented = {
        name: default.strip() for names, default in rows for name in re.findall(r"`([^`]+)`", names)
    }
    for name, field in MigrationOptions.model_fields.items():
        key = field.alias or name
        assert key in documented, f"option {key!r} is missing from the table in {PAGE}"
        if not field.is_required() and isinstance(field.default, int | float | str):
            shown = documented[key].strip("`")
            assert (
                float(shown) == float(field.default)
                if not isinstance(field.default, str)
                else shown == field.default
            ), f"{key}: table says {shown}, default is {field.default}"
