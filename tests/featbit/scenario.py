"""The common product scenario in FeatBit's own format, for cross-provider tests.

``bootstrap()`` is the data-sync message the ``featbit`` provider accepts as its
offline ``bootstrap`` option (and that its loopback server sends):

* gate ``new_checkout``: on for ``country == "US"`` and for 50 % of everyone else;
* experiment ``button_color``: groups control / blue / green, a third each, with the
  parameter ``{"color": ...}``;
* config ``pricing``: ``{"discount": 0.1}`` for ``plan == "pro"``, ``{"discount": 0}``
  otherwise;
* event ``purchase``: FeatBit needs no definition; it arrives as a metric named
  ``purchase``.
"""

from __future__ import annotations

from typing import Any

from flagport_featbit.testing import data_sync, scenario_flags


def bootstrap() -> dict[str, Any]:
    """The scenario as a FeatBit data-sync message (a fresh copy on every call)."""
    return data_sync(scenario_flags())


def provider_options() -> dict[str, Any]:
    """Options that run the ``featbit`` provider offline on the scenario."""
    return {"offline": True, "bootstrap": bootstrap()}
