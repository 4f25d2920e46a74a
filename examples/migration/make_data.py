"""Write the worked example's data: both vendors' definitions and a sample of users.

``statsig_specs.json`` and ``growthbook_features.json`` are what the two SDKs download
(their offline bootstrap format), for the same three flags. The GrowthBook copy has a
typo on purpose (a 15 % discount where Statsig has 10 %); ``--fixed`` writes it right.

Run: ``python make_data.py [--users N] [--fixed]``.
"""

from __future__ import annotations

import argparse
import json
import random
from pathlib import Path

from flagport_growthbook.testing import scenario_payload
from flagport_statsig.testing import scenario_specs


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=5000)
    parser.add_argument("--fixed", action="store_true", help="GrowthBook's pricing fixed")
    args = parser.parse_args()
    Path("statsig_specs.json").write_text(json.dumps(scenario_specs(), indent=1))
    growthbook = scenario_payload()
    if not args.fixed:
        growthbook["features"]["pricing"]["rules"][0]["force"] = {"discount": 0.15}
    Path("growthbook_features.json").write_text(json.dumps(growthbook, indent=1))
    rng = random.Random(7)
    with Path("users.jsonl").open("w") as out:
        for i in range(args.users):
            user = {
                "user_id": f"u{i}",
                "country": rng.choice(["US", "GB", "FR", "DE"]),
                "plan": rng.choice(["free", "pro"]),
            }
            out.write(json.dumps(user) + "\n")


if __name__ == "__main__":
    main()
