"""Fixtures shared by the core tests."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

import flagport
from flagport import Event, Flagport


@pytest.fixture
def scoped_client() -> Iterator[tuple[Flagport, list[Event]]]:
    """A passall client installed as the process-wide one, recording its events.

    ``beta`` is on for ``alice`` only; everyone is in ``button_color``'s ``blue`` group.
    The exposure window is 0, so only a request scope de-duplicates exposures.
    """
    seen: list[Event] = []
    fp = Flagport(provider="passall", events={"sinks": [seen.append], "exposure_window": 0})
    fp.override_gate("beta", True, user_id="alice")
    fp.override_gate("beta", False)
    fp.override_experiment("button_color", group="blue", value={"color": "blue"})
    previous = flagport.set_client(fp)
    yield fp, seen
    flagport.set_client(previous)
    fp.shutdown()


@pytest.fixture
def no_client() -> Iterator[None]:
    """No process-wide client while the test runs; the previous one is put back after."""
    previous = flagport.set_client(None)
    try:
        yield
    finally:
        flagport.shutdown()
        flagport.set_client(previous)


@pytest.fixture
def no_settings(no_client: None, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A directory with no settings file, and no ``FLAGPORT_*`` variable set."""
    for var in [v for v in os.environ if v.startswith("FLAGPORT_")]:
        monkeypatch.delenv(var)
    monkeypatch.chdir(tmp_path)
    return tmp_path
