"""Shared set-up for pytest-flagport's tests: inner sessions see no outer flagport settings."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

import flagport


@pytest.fixture(autouse=True)
def _clean_flagport_state(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    # The sessions pytester runs in this process must depend only on what each test
    # gives them: no outer settings, no process-wide client left by an earlier one.
    for name in list(os.environ):
        if name.startswith("FLAGPORT_"):
            monkeypatch.delenv(name)
    previous = flagport.set_client(None)
    yield
    flagport.set_client(previous)


@pytest.fixture
def pytester(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> pytest.Pytester:
    # Hypothesis' plugin re-imports hypothesis (with assertion rewriting) in every
    # in-process session, which takes seconds; the inner sessions do not need it.
    monkeypatch.setenv("PYTEST_ADDOPTS", "-p no:hypothesispytest")
    return pytester
