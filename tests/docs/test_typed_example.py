"""examples/typed_app: a user's typed code passes plain ``mypy --strict`` and its tests pass."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
APP = ROOT / "examples" / "typed_app"
SOURCES = [ROOT / "core" / "src", *ROOT.glob("providers/*/src"), *ROOT.glob("contrib/*/src")]


@pytest.mark.timeout(600)  # a cold mypy run over pydantic, on a busy machine
def test_the_typed_app_passes_mypy_strict_without_the_pydantic_plugin(tmp_path: Path) -> None:
    assert "plugins" not in (APP / "mypy.ini").read_text()
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "mypy",
            "--config-file",
            str(APP / "mypy.ini"),
            "--cache-dir",
            str(tmp_path),
            str(APP),
        ],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_typed_app_tests_pass_with_the_fixture() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-p", "no:randomly"],
        capture_output=True,
        text=True,
        cwd=APP,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "7 passed" in result.stdout


def test_no_model_field_passes_its_default_positionally() -> None:
    # Type checkers without pydantic's plugin (PEP 681's dataclass_transform) only see a
    # default given as ``default=``: ``Field(None, ...)`` makes the field required.
    positional = []
    for source in SOURCES:
        for path in source.rglob("*.py"):
            for node in ast.walk(ast.parse(path.read_text())):
                if (
                    isinstance(node, ast.Call)
                    and getattr(node.func, "id", getattr(node.func, "attr", None)) == "Field"
                    and node.args
                ):
                    positional.append(f"{path.relative_to(ROOT)}:{node.lineno}")
    assert positional == []
