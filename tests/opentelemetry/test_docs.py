"""docs/opentelemetry.md: its examples run as written and print the output it shows."""

from __future__ import annotations

import os
import re
from pathlib import Path

from child_python import run_python  # tests/support

ROOT = Path(__file__).resolve().parents[2]
PAGE = ROOT / "docs" / "opentelemetry.md"
EXAMPLE = re.compile(r"```python\n((?:(?!```).)*)```\n\nprints:\n\n```text\n(.*?)```", re.DOTALL)
SNIPPET = re.compile(r"```python\n(.*?)```", re.DOTALL)


def _run(code: str, cwd: Path) -> str:
    # A process of its own: the metrics sum over every live client of the process.
    env = {k: v for k, v in os.environ.items() if not k.startswith("FLAGPORT_")}
    return run_python(code, cwd, env)


def test_the_example_prints_what_the_page_shows(tmp_path: Path) -> None:
    (found,) = EXAMPLE.findall(PAGE.read_text())
    code, shown = found
    assert _run(code, tmp_path) == shown


def test_every_snippet_runs(tmp_path: Path) -> None:
    snippets = SNIPPET.findall(PAGE.read_text())
    assert len(snippets) == 2
    for code in snippets:
        _run(code, tmp_path)


def test_the_settings_table_lists_every_option() -> None:
    from flagport_opentelemetry import OpenTelemetrySettings

    text = PAGE.read_text()
    for name in OpenTelemetrySettings.model_fields:
        assert f"| `{name}` |" in text, name
