"""``flagport.suggest``: the one "did you mean" rule."""

from __future__ import annotations

from flagport.suggest import closest_name, did_you_mean


def test_closest_name_and_hint() -> None:
    names = {"new_checkout", "button_color", "pricing"}
    assert closest_name("new_chekout", names) == "new_checkout"
    assert closest_name("zzz", names) is None
    assert did_you_mean("pricng", names) == "did you mean 'pricing'?"
    assert did_you_mean("zzz", names) == ""
