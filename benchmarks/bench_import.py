"""``flagport import`` at scale: a generated 5,000-feature GrowthBook payload.

Prints three figures:

* import: :func:`flagport.importers.run.import_payload` plus writing the YAML text
  (goal, issue 16: under 10 s for 5,000 flags);
* verify: what ``--verify`` runs, :func:`compare_offline` (``flagport compare``'s
  engine) between the GrowthBook provider and the local provider answering in the
  vendor's shape, over N users, with a progress line per tenth of the users and the
  number of disagreements (0 expected);
* the two sides' own evaluation time over the same users and flags (the GrowthBook
  provider on the payload, the local provider on the file), and verify's ratio to
  their sum (goal: at most 1.5).

Times are this process's CPU time (``time.process_time``), so other processes on a
loaded machine do not skew the ratio; the import is also timed by the wall clock.

Run: ``uv run python benchmarks/bench_import.py`` (``--flags 5000 --users 1000``).
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from flagport.cli.importer import _VendorShaped, random_users
from flagport.importers.run import dump, import_payload
from flagport.providers.local import LocalProvider
from flagport.providers.migration.offline import compare_offline
from flagport.providers.migration.options import build_side


def payload(count: int, seed: int = 1) -> dict[str, Any]:
    """GrowthBook features using force rules, rollouts and experiments with conditions."""
    rng = random.Random(seed)
    features: dict[str, Any] = {}
    for i in range(count):
        rules: list[dict[str, Any]] = [
            {"id": f"f{i}a", "condition": {"country": rng.choice(["US", "FR"])}, "force": True}
        ]
        if i % 2:
            rules.append({"id": f"f{i}b", "force": True, "coverage": rng.random()})
        else:
            rules.append(
                {
                    "id": f"f{i}c",
                    "key": f"exp-{i}",
                    "variations": [False, True],
                    "weights": [0.5, 0.5],
                    "coverage": 0.9,
                    "hashVersion": 2,
                    "condition": {"age": {"$gte": rng.randrange(10, 60)}},
                }
            )
        features[f"feature_{i}"] = {"defaultValue": False, "rules": rules}
    return {"features": features}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--flags", type=int, default=5_000)
    parser.add_argument("--users", type=int, default=1_000)
    args = parser.parse_args()
    data = payload(args.flags)
    text = json.dumps(data)
    with tempfile.TemporaryDirectory() as tmp:
        source, output = Path(tmp) / "features.json", Path(tmp) / "flags.yaml"
        source.write_text(text)
        start = time.perf_counter()
        imported = import_payload("growthbook", text)
        output.write_text(dump(imported.flags, output))
        spent_import = time.perf_counter() - start
        print(f"import {args.flags} flags: {spent_import:.2f} s (goal < 10 s)")

        vendor = build_side(
            "from", {"provider": "growthbook", "offline": True, "bootstrap": str(source)}
        )
        vendor.start()
        local = LocalProvider(LocalProvider.Options(path=str(output), watch=False))
        local.start()
        users = random_users(imported.flags, args.users)
        names = local.names()
        own: dict[str, float] = {}
        for side, provider in (("growthbook", vendor), ("local", local)):
            start = time.process_time()
            for user in users:
                for name in names.experiments:
                    provider.evaluate_experiment(user, name, expose=False)
            own[side] = time.process_time() - start
            print(f"{side} alone, {args.users} users x {args.flags} flags: {own[side]:.2f} s")
        done = 0
        step = max(1, args.users // 10)

        def progress() -> None:
            nonlocal done
            done += 1
            if done % step == 0:
                print(f"  verified {done}/{args.users} users", file=sys.stderr)

        start = time.process_time()
        outcome = compare_offline(
            vendor, _VendorShaped(local), users, names=names, progress=progress
        )
        spent = time.process_time() - start
        ratio = spent / (own["growthbook"] + own["local"])
        mismatches = sum(flag.mismatches for flag in outcome.evidence.flags.values())
        print(
            f"verify {args.users} users: {spent:.2f} s = {ratio:.2f} x the two sides' own time "
            f"(goal <= 1.5), {mismatches} disagreements"
        )
        vendor.shutdown(2.0)
        local.shutdown(2.0)


if __name__ == "__main__":
    main()
