"""Running Python code in a child interpreter, for what one process cannot show: a fresh
import state, a ``sitecustomize`` that hides a package, process-wide totals."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path


def run_python(code: str, cwd: Path, env: Mapping[str, str] | None = None) -> str:
    """Run ``code`` with this interpreter in ``cwd``; its stdout, once it exited 0.

    :param env: the child's environment (by default this process's).
    """
    done = subprocess.run(
        [sys.executable, "-c", code],
        cwd=cwd,
        env=dict(os.environ if env is None else env),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout
