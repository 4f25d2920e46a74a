"""Rules v2 costs: prerequisite chains against a plain gate, and loading 10,000 flags
written with the v2 constructs (JSON and YAML).

Run: ``uv run python benchmarks/bench_rules.py``. Prints figures and ratios; targets:

* a gate behind a prerequisite chain of depth 3 costs <= 3x a plain gate;
* loading 10,000 v2 flags takes < 2 s, from JSON and from YAML.
"""

from __future__ import annotations

import gc
import json
import sys
import tempfile
import time
import timeit
from collections.abc import Callable
from pathlib import Path
from typing import Any

import yaml

from flagport import Flagport, User
from flagport.providers.local.loader import load_file

NUMBER = 20_000
REPEAT = 7
LOAD_RUNS = 5


def least_us(*fns: Callable[[], Any]) -> list[float]:
    """CPU microseconds per call of each of ``fns``, the least of the repeats (load only
    ever adds), measured in turn within each repeat so that load hits all alike."""
    best = [float("inf")] * len(fns)
    for _ in range(REPEAT):
        for index, fn in enumerate(fns):
            spent = timeit.timeit(fn, number=NUMBER, timer=time.process_time)
            best[index] = min(best[index], spent / NUMBER * 1e6)
    return best


def chain_flags() -> dict[str, Any]:
    """plain: one rule with a condition; link<n>: a gate with the same rule behind a
    prerequisite on link<n-1>, so link2 is a chain of three gates and link3 has three
    prerequisite links (four gates)."""
    rule = {"when": {"country": "DE"}}
    gates: dict[str, Any] = {"plain": {"rules": [rule]}, "link0": {"rules": [rule]}}
    for depth in (1, 2, 3):
        gates[f"link{depth}"] = {
            "rules": [{**rule, "prerequisites": [{"flag": f"link{depth - 1}"}]}]
        }
    return {"gates": gates}


def v2_flags(count: int) -> dict[str, Any]:
    """``count`` flags using prerequisites, ranges, filters, splits and fall-through."""
    third = count // 3
    gates = {
        f"gate_{i}": {
            "hash": "growthbook",
            "rules": [
                {"id": "beta", "when": {"plan": "pro"}, "range": [0.1, 0.4], "outside": "next"},
                {
                    "id": "layer",
                    "filters": [{"seed": "layer", "ranges": [[0, 0.5]]}],
                    "pass_percentage": i % 100,
                    "outside": "next",
                },
            ],
        }
        for i in range(third)
    }
    experiments = {
        f"exp_{i}": {
            "rules": [
                {
                    "prerequisites": [{"flag": f"gate_{i}"}],
                    "split": {
                        "variants": [
                            {"group": "a", "value": "red", "range": [0, 0.5]},
                            {"group": "b", "value": "blue", "range": [0.5, 1]},
                        ]
                    },
                    "outside": "next",
                }
            ],
        }
        for i in range(third)
    }
    configs = {
        f"config_{i}": {
            "default": 10,
            "rules": [
                {"id": "pro", "when": {"plan": "pro"}, "value": 100},
                {"split": {"variants": [{"value": 1, "weight": 50}, {"value": 2, "weight": 50}]}},
            ],
        }
        for i in range(count - 2 * third)
    }
    return {"gates": gates, "experiments": experiments, "configs": configs}


def timed_load(path: Path, runs: int) -> tuple[float, float]:
    """The least CPU time and the least wall time of ``runs`` loads of ``path``, in
    seconds (the least: other processes on a loaded machine only ever add time)."""
    cpu: list[float] = []
    wall: list[float] = []
    for _ in range(runs):
        gc.collect()
        start_cpu, start = time.process_time(), time.perf_counter()
        load_file(path)
        cpu.append(time.process_time() - start_cpu)
        wall.append(time.perf_counter() - start)
    return min(cpu), min(wall)


def main() -> None:
    user = User(user_id="bench-1", country="DE")
    with Flagport(provider="local", flags=chain_flags(), watch=False) as fp:
        check = fp.check_gate
        if not (check(user, "link3") and check(user, "plain")):
            raise SystemExit("the benchmark's gates do not pass; fix chain_flags()")
        plain, three_gates, three_links = least_us(
            lambda: check(user, "plain"), lambda: check(user, "link2"), lambda: check(user, "link3")
        )
    with tempfile.TemporaryDirectory() as tmp_dir:
        tmp = Path(tmp_dir)
        flags = v2_flags(10_000)
        json_path, yaml_path = tmp / "flags.json", tmp / "flags.yaml"
        json_path.write_text(json.dumps(flags))
        yaml_path.write_text(yaml.safe_dump(flags, sort_keys=False))
        load_json = timed_load(json_path, runs=LOAD_RUNS)
        load_yaml = timed_load(yaml_path, runs=LOAD_RUNS)

    version = sys.version.split()[0]
    print(f"flagport rules v2 (python {version}; CPU time, least of {REPEAT} x {NUMBER})")
    print(f"check_gate plain gate:                         {plain:8.3f} us")
    for label, cost in (
        ("chain of 3 gates (2 prerequisite links)", three_gates),
        ("3 prerequisite links (4 gates)", three_links),
    ):
        ratio = cost / plain
        met = "yes" if ratio <= 3 else "NO"
        print(f"check_gate, {label:35s} {cost:8.3f} us  {ratio:.2f}x (<= 3x: {met})")
    for fmt, (cpu, wall) in (("JSON", load_json), ("YAML", load_yaml)):
        print(
            f"load 10,000 v2 flags, {fmt}: {cpu:.2f} s CPU, {wall:.2f} s wall "
            f"(least of {LOAD_RUNS}; < 2 s CPU: {'yes' if cpu < 2 else 'NO'})"
        )


if __name__ == "__main__":
    main()
