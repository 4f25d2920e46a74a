"""``flagport.provider``: what every provider shares."""

from __future__ import annotations

import pytest

from flagport import FlagNames


def test_flag_names_of_one_kind() -> None:
    names = FlagNames(frozenset({"g"}), frozenset({"e"}), frozenset({"c"}))
    assert [names.of(kind) for kind in ("gate", "experiment", "config")] == [
        {"g"},
        {"e"},
        {"c"},
    ]
    with pytest.raises(ValueError, match="unknown flag kind 'gates'"):
        names.of("gates")
