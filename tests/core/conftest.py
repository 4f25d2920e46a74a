"""Fixtures shared by the core tests."""

from __future__ import annotations

from collections.abc import Iterator

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
