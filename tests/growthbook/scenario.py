"""The common product scenario in GrowthBook's own payload format.

* gate ``new_checkout``: on for country US, and for 50% of everyone else;
* experiment ``button_color``: control / blue / green, about 1/3 each, with the
  parameter ``{"color": ...}``;
* config ``pricing``: ``{"discount": 0.1}`` for plan "pro", ``{"discount": 0}`` otherwise;
* custom event ``purchase``.

Rules use ``hashVersion: 2``, as payloads from GrowthBook itself do (a rule without
it hashes with version 1).
"""

from __future__ import annotations

from typing import Any

__all__ = ["PURCHASE", "scenario_payload"]

PURCHASE = "purchase"


def scenario_payload() -> dict[str, Any]:
    """A fresh GrowthBook SDK payload (``GET /api/features/<key>``) for the scenario."""
    return {
        "status": 200,
        "features": {
            "new_checkout": {
                "defaultValue": False,
                "rules": [
                    {"id": "fr_us", "condition": {"country": "US"}, "force": True},
                    {
                        "id": "fr_rollout50",
                        "force": True,
                        "coverage": 0.5,
                        "hashAttribute": "id",
                        "seed": "new_checkout",
                        "hashVersion": 2,
                    },
                ],
            },
            "button_color": {
                "defaultValue": {"color": "gray"},
                "rules": [
                    {
                        "id": "fr_button_color",
                        "key": "button_color",
                        "seed": "button_color",
                        "hashAttribute": "id",
                        "hashVersion": 2,
                        "coverage": 1,
                        "weights": [0.3334, 0.3333, 0.3333],
                        "variations": [
                            {"color": "gray"},
                            {"color": "blue"},
                            {"color": "green"},
                        ],
                        "meta": [
                            {"key": "control", "name": "Control"},
                            {"key": "blue", "name": "Blue"},
                            {"key": "green", "name": "Green"},
                        ],
                        "name": "Button color",
                        "phase": "0",
                    }
                ],
            },
            "pricing": {
                "defaultValue": {"discount": 0},
                "rules": [
                    {"id": "fr_pro", "condition": {"plan": "pro"}, "force": {"discount": 0.1}}
                ],
            },
        },
        "savedGroups": {},
        "dateUpdated": "2026-01-01T00:00:00.000Z",
    }
