"""Running the examples' scripts in-process, as ``python script.py args`` would."""

from __future__ import annotations

import runpy
import sys


def run_script(argv: list[str]) -> None:
    """Run ``argv[0]`` (a path) as ``__main__`` with ``sys.argv`` set to ``argv``."""
    saved = sys.argv
    sys.argv = list(argv)
    try:
        runpy.run_path(argv[0], run_name="__main__")
    finally:
        sys.argv = saved
