"""Execute the Python examples of the core documentation pages, so they stay true."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

DOCS = Path(__file__).resolve().parents[2] / "docs"
PAGES = ["index.md", "events.md", "plugins.md"]
BLOCK = re.compile(r"```python\n(.*?)```", re.DOTALL)


def blocks() -> list[tuple[str, int, str]]:
    found = []
    for page in PAGES:
        text = (DOCS / page).read_text()
        for match in BLOCK.finditer(text):
            code = match.group(1)
            if "make_provider(self):\n        ..." in code:
                continue  # a template to fill in, not a runnable example
            line = text.count("\n", 0, match.start()) + 2
            found.append((page, line, code))
    return found


def test_readme_example_runs_from_the_repository_root(monkeypatch: pytest.MonkeyPatch) -> None:
    root = DOCS.parent
    text = (root / "README.md").read_text()
    (code,) = BLOCK.findall(text)
    monkeypatch.chdir(root)
    monkeypatch.delenv("FLAGPORT_PROVIDER", raising=False)
    namespace: dict[str, object] = {"__name__": "readme"}
    exec(compile(code, "README.md", "exec"), namespace)
    assert namespace["color"] in {"gray", "blue", "green"}
    assert namespace["discount"] == 0.1  # the example user is on the pro plan


@pytest.mark.parametrize(("page", "line", "code"), blocks(), ids=lambda v: str(v)[:20])
def test_example_runs(
    page: str, line: int, code: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("FLAGPORT_PROVIDER", raising=False)
    exec(compile(code, f"docs/{page}:{line}", "exec"), {"__name__": f"docs_{page}"})
