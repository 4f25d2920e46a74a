"""The pipeline measures an event once, whichever way: its common case (a user measured
before, a short name and value, flat metadata) is taken inline on the caller's thread,
and must come out exactly as the general path's measure and cuts."""

from __future__ import annotations

from typing import Any

from hypothesis import example, given, settings
from hypothesis import strategies as st

from flagport import EventKind, User
from flagport._records import Record
from flagport.events.pipeline import EventPipeline
from flagport.events.settings import EventSettings

TEXT = st.text(max_size=40) | st.text(min_size=200, max_size=700)
SCALARS = st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | TEXT
FLAT = st.dictionaries(st.text(max_size=20), SCALARS, max_size=6)
DEEP = st.recursive(SCALARS, lambda inner: st.lists(inner, max_size=3), max_leaves=6)
NESTED = st.dictionaries(st.text(max_size=10) | st.integers(), DEEP, max_size=4)
CUSTOM = st.dictionaries(st.text(max_size=10), DEEP, max_size=4)


def _pipeline(max_bytes: int) -> EventPipeline:
    settings = EventSettings(sinks=[], max_event_bytes=max_bytes, max_event_depth=3)
    return EventPipeline(settings, provider=lambda: None)  # type: ignore[arg-type,return-value]


@settings(max_examples=300, deadline=None)
@given(
    max_bytes=st.integers(256, 1024),
    custom=FLAT | CUSTOM,
    name=TEXT,
    value=st.none() | st.floats(allow_nan=False) | TEXT,
    metadata=FLAT | NESTED,
)
@example(max_bytes=256, custom={}, name="purchase", value=9.99, metadata={"sku": "A1"})
@example(max_bytes=256, custom={}, name="search", value="x" * 255, metadata={"q": "x"})
@example(max_bytes=256, custom={}, name="n", value=None, metadata={"k": "v" * 250})
def test_an_event_is_measured_and_cut_alike_on_the_inline_and_the_general_path(
    max_bytes: int, custom: dict[str, Any], name: str, value: Any, metadata: dict[Any, Any]
) -> None:
    pipeline = _pipeline(max_bytes)
    user = User(user_id="u-1", custom=custom)
    record = Record(1.0, EventKind.CUSTOM, user, name, value, metadata, "p", None, None, None)
    general = pipeline.prepare(record)  # the user is measured here, on the general path
    inline = pipeline.prepare(record)  # measured before: the inline path, when it applies
    assert inline == general
    if not general[2] and general[0][5] is metadata:
        assert inline[0] is record  # nothing cut or copied: the record itself is queued
