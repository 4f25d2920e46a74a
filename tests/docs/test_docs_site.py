"""The documentation site: its configuration, and the options pages generated from the models."""

from __future__ import annotations

import importlib.util
import re
import sys
import tomllib
from pathlib import Path
from types import ModuleType

import pytest

from flagport.plugins import provider_registry

ROOT = Path(__file__).resolve().parents[2]
MKDOCS = (ROOT / "mkdocs.yml").read_text()


def hook() -> ModuleType:
    path = ROOT / "scripts" / "mkdocs_options_pages.py"
    spec = importlib.util.spec_from_file_location("mkdocs_options_pages", path)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def test_the_site_names_its_theme_hook_and_dependencies() -> None:
    assert re.search(r"^theme:\n  name: material$", MKDOCS, re.MULTILINE)
    assert "  - scripts/mkdocs_options_pages.py" in MKDOCS
    groups = tomllib.loads((ROOT / "pyproject.toml").read_text())["dependency-groups"]
    assert {r.split(">=")[0] for r in groups["docs"]} == {"mkdocs", "mkdocs-material"}
    assert "mkdocs build --strict" in (ROOT / ".ci" / "run").read_text()


@pytest.mark.parametrize("name", sorted(provider_registry()))
def test_every_provider_has_an_options_page_in_the_navigation(name: str) -> None:
    assert f": options/{name}.md" in MKDOCS


@pytest.mark.parametrize("name", sorted(provider_registry()))
def test_the_options_page_lists_every_option_of_the_model(name: str) -> None:
    page = hook().options_page(name)
    model = provider_registry()[name].provider_class.Options
    schema = model.model_json_schema()
    rows = dict(re.findall(r"^\| `([^`]+)` \| (.*)$", page, re.MULTILINE))
    assert set(rows) == set(schema["properties"])
    for option, spec in schema["properties"].items():
        if option in schema.get("required", []):
            assert "| required |" in rows[option]
        description = " ".join(spec.get("description", "").split())
        assert description.replace("|", "\\|") in rows[option]
    assert f"FLAGPORT_{name.upper()}_<OPTION>" in page
