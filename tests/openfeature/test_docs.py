"""The Python examples of the bridge's README and documentation page run as written."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
# docs/openfeature.md includes the README (pymdownx.snippets).
PAGES = ["contrib/openfeature/README.md"]
BLOCK = re.compile(r"```python\n(.*?)```", re.DOTALL)


def blocks() -> list[tuple[str, int, str]]:
    found = []
    for page in PAGES:
        text = (ROOT / page).read_text()
        for match in BLOCK.finditer(text):
            line = text.count("\n", 0, match.start()) + 2
            found.append((page, line, match.group(1)))
    return found


def test_every_page_has_examples() -> None:
    assert {page for page, _, _ in blocks()} == set(PAGES)


@pytest.mark.parametrize(("page", "line", "code"), blocks(), ids=lambda v: str(v)[:30])
def test_example_runs(
    page: str, line: int, code: str, flags_file: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(flags_file.parent)
    monkeypatch.delenv("FLAGPORT_PROVIDER", raising=False)
    namespace = {"__name__": "docs_example", "flags_path": str(flags_file)}
    exec(compile(code, f"{page}:{line}", "exec"), namespace)
