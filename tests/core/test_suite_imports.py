"""The suite's own helpers (``tests/support``, on pytest's ``pythonpath``) are imported by
their module name: ``tests`` is not a package everywhere the suite runs (the lowest
declared versions' run could not import ``tests.support``)."""

from __future__ import annotations

import ast
from pathlib import Path

TESTS = Path(__file__).resolve().parents[1]


def _lines_importing_tests(source: str) -> list[int]:
    """The lines of ``source`` that import the ``tests`` package or a module in it."""
    lines = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.ImportFrom) and not node.level:
            names = [node.module or ""]
        elif isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        else:
            continue
        lines += [node.lineno for name in names if name.split(".")[0] == "tests"]
    return lines


def test_no_test_imports_the_tests_package() -> None:
    offenders = [
        f"{path.relative_to(TESTS)}:{line}"
        for path in sorted(TESTS.rglob("*.py"))
        for line in _lines_importing_tests(path.read_text(encoding="utf-8"))
    ]
    assert offenders == [], "import tests/support modules by name: 'from flagless import ...'"


def test_the_check_sees_such_imports() -> None:
    source = (
        "import os\n"
        "from flagless import FlaglessProvider\n"
        "from tests.support.flagless import FlaglessProvider\n"
        "import tests.support.child_python\n"
    )
    assert _lines_importing_tests(source) == [3, 4]
