"""Settings shared by every test folder.

Property tests explore new examples on every developer run. CI sets
``FLAGPORT_HYPOTHESIS=ci`` for a derandomized profile: the examples each test draws
are fixed by the test's code, so a CI run is repeatable on any machine with the same
command (``FLAGPORT_HYPOTHESIS=ci uv run pytest -n auto``).
"""

from __future__ import annotations

import os

from hypothesis import settings

settings.register_profile("ci", derandomize=True, database=None, print_blob=True)
settings.load_profile(os.environ.get("FLAGPORT_HYPOTHESIS", "default"))
