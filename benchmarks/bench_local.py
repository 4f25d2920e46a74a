"""flagport's ``local`` provider against the vendor SDKs, offline, in one process.

Every side evaluates the same product scenario (VENDORS.md section 2: gate
``new_checkout`` on for US users and 50 % of the rest, experiment ``button_color``
with three groups, config ``pricing``), the vendors from their own formats. Each row
is measured with ``timeit.repeat`` alternating between the two sides, so that load
from other processes hits both alike, and the median per call is reported with the
ratio and whether the target is met:

* ``check_gate`` through the facade, rollout path: <= 0.8x Statsig ``check_gate`` and
  <= 0.2x GrowthBook ``is_on``;
* ``get_experiment`` (exposure de-duplication on): <= 0.5x Statsig ``get_experiment``;
* ``get_config``: <= 0.5x GrowthBook ``get_feature_value``;
* a generated 10,000-flag file loads in under 2 s, and evaluating a flag costs the
  same with 10 flags as with 10,000;
* an edit of a watched file is served within 1 s.

Run: ``uv run python benchmarks/bench_local.py`` (``--quick`` for fewer repeats).
"""

from __future__ import annotations

import argparse
import gc
import json
import logging
import os
import statistics
import sys
import tempfile
import time
import timeit
from collections.abc import Callable
from pathlib import Path
from typing import Any

from fbclient import Config, FBClient
from growthbook import GrowthBook
from statsig_python_core import Statsig, StatsigOptions, StatsigUser

from flagport import Flagport, User
from flagport.local import LocalProvider
from flagport.local.compiled import clear_memo
from flagport.local.loader import load_file
from flagport_featbit.testing import data_sync, scenario_flags
from flagport_growthbook.testing import scenario_payload
from flagport_statsig.provider import _SpecsStore
from flagport_statsig.testing import scenario_specs

NUMBER = 20_000
REPEAT = 7

FLAGS: dict[str, Any] = {
    "gates": {
        "new_checkout": {
            "rules": [
                {"id": "us", "when": {"country": "US"}},
                {"id": "rollout", "pass_percentage": 50},
            ]
        }
    },
    "experiments": {
        "button_color": {
            "groups": [
                {"name": "control", "weight": 34, "value": {"color": "gray"}},
                {"name": "blue", "weight": 33, "value": {"color": "blue"}},
                {"name": "green", "weight": 33, "value": {"color": "green"}},
            ]
        }
    },
    "configs": {
        "pricing": {
            "default": {"discount": 0},
            "rules": [{"id": "pro", "when": {"plan": "pro"}, "value": {"discount": 0.1}}],
        }
    },
}


def alternate(first: Callable[[], Any], second: Callable[[], Any]) -> tuple[float, float]:
    """Median microseconds per call of both, measured in alternation."""
    first(), second()
    a: list[float] = []
    b: list[float] = []
    for _ in range(REPEAT):
        a += timeit.repeat(first, number=NUMBER, repeat=1)
        b += timeit.repeat(second, number=NUMBER, repeat=1)
    return statistics.median(a) / NUMBER * 1e6, statistics.median(b) / NUMBER * 1e6


def median_us(fn: Callable[[], Any]) -> float:
    fn()
    return statistics.median(timeit.repeat(fn, number=NUMBER, repeat=REPEAT)) / NUMBER * 1e6


# -- the vendors, offline ------------------------------------------------------------------
def statsig_sdk() -> Statsig:
    sdk = Statsig(
        "secret-bench",
        StatsigOptions(
            disable_network=True,
            data_store=_SpecsStore(json.dumps(scenario_specs())),
            disable_country_lookup=True,
            output_log_level="none",
        ),
    )
    sdk.initialize().wait(10)
    return sdk


def featbit_sdk() -> FBClient:
    logging.getLogger("fbclient").setLevel(logging.WARNING)
    sdk = FBClient(
        Config("bench", "http://offline.invalid", "ws://offline.invalid", offline=True),
        start_wait=0,
    )
    assert sdk.initialize_from_external_json(json.dumps(data_sync(scenario_flags())))
    return sdk


# -- large files -----------------------------------------------------------------------------
def generated_flags(count: int) -> dict[str, Any]:
    """``count`` flags, a third of each kind, with realistic rules."""
    third = count // 3
    gates = {
        f"gate_{i}": {
            "rules": [
                {"id": "us", "when": {"country": "US", "app_version": {"$vgte": "2.0.0"}}},
                {"id": "beta", "when": {"user_id": {"$inGroup": "beta"}}},
                {"id": "rollout", "pass_percentage": i % 100},
            ]
        }
        for i in range(third)
    }
    experiments = {
        f"exp_{i}": {
            "when": {"plan": {"$in": ["pro", "team"]}},
            "groups": [
                {"name": "control", "weight": 50, "value": {"color": "gray", "size": 1}},
                {"name": "test", "weight": 50, "value": {"color": "blue", "size": 2}},
            ],
        }
        for i in range(third)
    }
    configs = {
        f"config_{i}": {
            "default": {"limit": 10},
            "rules": [{"id": "pro", "when": {"plan": "pro"}, "value": {"limit": 100}}],
        }
        for i in range(count - 2 * third)
    }
    return {
        "segments": {"beta": ["1", "2", "3"]},
        "gates": gates,
        "experiments": experiments,
        "configs": configs,
    }


def timed_load(path: Path, runs: int = 3) -> float:
    times = []
    for _ in range(runs):
        gc.collect()
        start = time.perf_counter()
        load_file(path)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def reload_latency(tmp: Path, runs: int = 5) -> float:
    """Median seconds from an atomic file replacement until the new value is served."""
    path = tmp / "watched.yaml"
    text = "gates:\n  g:\n    rules:\n      - {{id: r, pass_percentage: {}}}\n"
    path.write_text(text.format(0))
    provider = LocalProvider(LocalProvider.Options(path=str(path), watch=True))
    provider.start()
    user = User(user_id="u")
    latencies = []
    try:
        for run in range(runs):
            want = run % 2 == 0
            time.sleep(0.3)
            new = tmp / "watched.tmp"
            new.write_text(text.format(100 if want else 0))
            start = time.perf_counter()
            os.replace(new, path)
            while provider.check_gate(user, "g") is not want:
                if time.perf_counter() - start > 10:
                    break
                time.sleep(0.001)
            latencies.append(time.perf_counter() - start)
    finally:
        provider.shutdown()
    return statistics.median(latencies)


# -- report -------------------------------------------------------------------------------------
def main() -> None:
    global NUMBER, REPEAT
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="fewer calls and repeats")
    args = parser.parse_args()
    if args.quick:
        NUMBER, REPEAT = 5_000, 3

    fp = Flagport(provider="local", flags=FLAGS, watch=False)
    statsig = statsig_sdk()
    gb = GrowthBook(features=scenario_payload()["features"])
    featbit = featbit_sdk()

    us = User(user_id="bench-us", country="US", custom={"plan": "pro"})
    de = User(user_id="bench-de", country="DE", custom={"plan": "free"})
    us_su = StatsigUser(user_id="bench-us", country="US", custom={"plan": "pro"})
    de_su = StatsigUser(user_id="bench-de", country="DE", custom={"plan": "free"})
    gb_de = GrowthBook(
        features=scenario_payload()["features"],
        attributes={"id": "bench-de", "country": "DE", "plan": "free"},
    )
    fb_de = {"key": "bench-de", "name": "bench-de", "country": "DE", "plan": "free"}
    gb.set_attributes({"id": "bench-de", "country": "DE", "plan": "free"})
    assert fp.check_gate(us, "new_checkout") is statsig.check_gate(us_su, "new_checkout") is True

    rows: list[tuple[str, float, float, float]] = []  # label, ours, theirs, target

    def compare(
        label: str, ours: Callable[[], Any], theirs: Callable[[], Any], target: float
    ) -> None:
        o, t = alternate(ours, theirs)
        rows.append((label, o, t, target))
        print(f"  measured {label}: {o:.3f} vs {t:.3f} us", file=sys.stderr, flush=True)

    compare(
        "check_gate DE (rollout) / Statsig check_gate",
        lambda: fp.check_gate(de, "new_checkout"),
        lambda: statsig.check_gate(de_su, "new_checkout"),
        0.8,
    )
    compare(
        "check_gate DE (rollout) / GrowthBook is_on",
        lambda: fp.check_gate(de, "new_checkout"),
        lambda: gb_de.is_on("new_checkout"),
        0.2,
    )
    compare(
        "get_experiment (dedup on) / Statsig get_experiment",
        lambda: fp.get_experiment(de, "button_color"),
        lambda: statsig.get_experiment(de_su, "button_color"),
        0.5,
    )
    compare(
        "get_config / GrowthBook get_feature_value",
        lambda: fp.get_config(de, "pricing"),
        lambda: gb_de.get_feature_value("pricing", None),
        0.5,
    )

    # Context rows, no targets: cold hashing, other paths, FeatBit.
    def cold_gate() -> bool:
        clear_memo()
        return fp.check_gate(de, "new_checkout")

    extra = [
        ("flagport check_gate US (first rule)", lambda: fp.check_gate(us, "new_checkout")),
        ("flagport check_gate DE, hash memo cleared each call", cold_gate),
        ("flagport get_gate DE (result object)", lambda: fp.get_gate(de, "new_checkout")),
        ("Statsig check_gate US", lambda: statsig.check_gate(us_su, "new_checkout")),
        ("GrowthBook is_on US", lambda: gb.is_on("new_checkout")),
        ("FeatBit variation DE", lambda: featbit.variation("new_checkout", fb_de, False)),
        (
            "FeatBit variation_detail button_color",
            lambda: featbit.variation_detail("button_color", fb_de, {}),
        ),
    ]
    context = [(label, median_us(fn)) for label, fn in extra]

    # Flag count: load time, and evaluation cost with 10 vs 10,000 flags.
    with tempfile.TemporaryDirectory() as tmp_dir:
        tmp = Path(tmp_dir)
        big = generated_flags(10_000)
        json_path, yaml_path = tmp / "flags.json", tmp / "flags.yaml"
        json_path.write_text(json.dumps(big))
        import yaml

        yaml_path.write_text(yaml.safe_dump(big, sort_keys=False))
        load_json = timed_load(json_path)
        load_yaml = timed_load(yaml_path, runs=1)
        small = Flagport(provider="local", flags=generated_flags(10), watch=False)
        large = Flagport(provider="local", flags=big, watch=False)
        probe = User(user_id="bench-de", country="DE", custom={"plan": "pro"})
        scale = []
        for label, name, call in (
            ("check_gate", "gate_1", "check_gate"),
            ("get_experiment", "exp_1", "get_experiment"),
            ("get_config", "config_1", "get_config"),
        ):
            s, b = alternate(
                lambda c=call, n=name: getattr(small, c)(probe, n),
                lambda c=call, n=name: getattr(large, c)(probe, n),
            )
            scale.append((label, s, b))
        latency = reload_latency(tmp)

    print()
    print(f"flagport local vs vendor SDKs, offline, one process (python {sys.version.split()[0]},")
    load = os.getloadavg()[0]
    print(f"{os.cpu_count()} cpus, load average {load:.1f}; median of {REPEAT} x {NUMBER} calls)")
    print()
    columns = f"{'flagport us':>11s} {'vendor us':>10s} {'ratio':>7s} {'target':>7s}  met"
    print(f"{'comparison':52s} {columns}")
    for label, ours, theirs, target in rows:
        ratio = ours / theirs
        print(
            f"{label:52s} {ours:11.3f} {theirs:10.3f} {ratio:6.2f}x {target:6.2f}x  "
            f"{'yes' if ratio <= target else 'NO'}"
        )
    print()
    print(f"{'context (no target)':52s} {'us/call':>11s}")
    for label, value in context:
        print(f"{label:52s} {value:11.3f}")
    print()
    met = "yes" if load_json < 2 else "NO"
    print(f"load 10,000-flag JSON file: {load_json:.2f} s (target < 2 s: {met})")
    print(f"load 10,000-flag YAML file: {load_yaml:.2f} s (no target; YAML parsing is most of it)")
    header = f"{'10 flags':>11s} {'10k flags':>10s} {'ratio':>7s}"
    print(f"{'evaluation with 10 vs 10,000 flags':52s} {header}")
    for label, s, b in scale:
        print(f"{'  ' + label:52s} {s:11.3f} {b:10.3f} {b / s:6.2f}x")
    flat = all(b / s < 1.25 for _, s, b in scale)
    print(f"evaluation time independent of flag count (within 25%): {'yes' if flat else 'NO'}")
    met = "yes" if latency < 1 else "NO"
    print(f"watched-file edit served after (median of 5): {latency * 1000:.0f} ms (< 1 s: {met})")

    fp.shutdown()
    small.shutdown()
    large.shutdown()
    statsig.shutdown().wait(5)
    featbit.stop()


if __name__ == "__main__":
    main()
