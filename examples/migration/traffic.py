"""Replay users.jsonl through the application's three flags, as production would."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

from flagport import Flagport

served: Counter[tuple[str, str | None]] = Counter()
with Flagport.from_settings() as fp:  # provider = "migration", from flagport.toml
    for line in Path("users.jsonl").read_text().splitlines():
        user = json.loads(line)
        gate = fp.get_gate(user, "new_checkout")
        served["new_checkout", gate.provider] += 1
        if gate.value:
            color = fp.get_experiment(user, "button_color")
            pricing = fp.get_config(user, "pricing")
            served["button_color", color.provider] += 1
            served["pricing", pricing.provider] += 1
            price = round(9.99 * (1 - pricing.get("discount", 0.0)), 2)
            fp.log_event(user, "purchase", value=price)
print("served:", dict(sorted(served.items())))
