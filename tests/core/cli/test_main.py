"""``python -m flagport`` runs the command line; ``import flagport`` does not load it."""

from __future__ import annotations

import subprocess
import sys


def _python(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, *args], capture_output=True, text=True, check=False)


def test_python_m_flagport_runs_the_cli() -> None:
    done = _python("-m", "flagport", "eval", "gate", "new_checkout", "--provider", "passall")
    assert done.returncode == 0, done.stderr
    assert "new_checkout" in done.stdout
    assert "True" in done.stdout


def test_importing_flagport_does_not_import_the_cli() -> None:
    done = _python(
        "-c", "import sys, flagport; print(sorted({'click', 'rich'} & set(sys.modules)))"
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"
