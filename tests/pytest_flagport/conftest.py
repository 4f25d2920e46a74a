"""Shared set-up for pytest-flagport's tests: inner sessions see no outer flagport settings."""

from __future__ import annotations

import os

import pytest


@pytest.fixture(autouse=True)
def _clean_flagport_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    # The sessions pytester runs must depend only on what each test gives them.
    for name in list(os.environ):
        if name.startswith("FLAGPORT_"):
            monkeypatch.delenv(name)


@pytest.fixture
def pytester(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> pytest.Pytester:
    # Hypothesis' plugin re-imports hypothesis (with assertion rewriting) in every
    # in-process session, which takes seconds; the inner sessions do not need it.
    monkeypatch.setenv("PYTEST_ADDOPTS", "-p no:hypothesispytest")
    return pytester
