"""The common product scenario in GrowthBook's own payload format.

* gate ``new_checkout``: on for country US, and for 50% of everyone else;
* experiment ``button_color``: control / blue / green, about 1/3 each, with the
  parameter ``{"color": ...}``;
* config ``pricing``: ``{"discount": 0.1}`` for plan "pro", ``{"discount": 0}`` otherwise;
* custom event ``purchase``.

The definitions live in :mod:`flagport_growthbook.testing` (public, so users and
the migration work can use them too); this module is where the cross-provider
scenario test finds them.
"""

from __future__ import annotations

from flagport_growthbook.testing import PURCHASE, scenario_payload

__all__ = ["PURCHASE", "scenario_payload"]
