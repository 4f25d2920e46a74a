"""flagport's ``local`` provider against the vendor SDKs, offline, in one process.

Every side evaluates the same definitions, the vendors from their own formats (the
gate ``new_checkout``, a 50 % rollout, and the experiment ``button_color`` with three
groups, from ``tests/support/vendor_defs.py``; the config ``pricing`` of VENDORS.md
section 2), and flagport hashes the way the vendor it is compared with does. Each row
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
import itertools
import json
import os
import statistics
import sys
import tempfile
import time
import timeit
from collections.abc import Callable
from pathlib import Path
from typing import Any

from growthbook import GrowthBook
from statsig_python_core import StatsigUser

from flagport import Flagport, User
from flagport.providers.local import LocalProvider
from flagport.providers.local.compiled import clear_memo

# The vendor-format definitions shared with the bucketing tests (a test folder is not
# a package, so it is put on the path).
sys.path.insert(0, str(Path(__file__).parents[1] / "tests" / "support"))
import vendor_defs as defs
from bench_rules import timed_load

NUMBER = 20_000
REPEAT = 7

#: VENDORS.md section 2's config, which vendor_defs (a gate and an experiment) lacks.
PRICING = {"discount": 0.1}


def local_flags(mode: str) -> dict[str, Any]:
    """vendor_defs' gate and experiment in the flags file format, plus the config."""
    flags: dict[str, Any] = defs.flagport_flags(mode)
    flags["configs"] = {"pricing": {"default": PRICING}}
    return flags


def growthbook_features() -> dict[str, Any]:
    features: dict[str, Any] = defs.growthbook_features(2)
    features["pricing"] = {"defaultValue": PRICING, "rules": []}
    return features


def alternate(
    first: Callable[[], Any],
    second: Callable[[], Any],
    pick: Callable[[list[float]], float] = statistics.median,
) -> tuple[float, float]:
    """Microseconds per call of both, measured in alternation (median of the repeats)."""
    first(), second()
    a: list[float] = []
    b: list[float] = []
    for _ in range(REPEAT):
        a += timeit.repeat(first, number=NUMBER, repeat=1)
        b += timeit.repeat(second, number=NUMBER, repeat=1)
    return pick(a) / NUMBER * 1e6, pick(b) / NUMBER * 1e6


def median_us(fn: Callable[[], Any]) -> float:
    fn()
    return statistics.median(timeit.repeat(fn, number=NUMBER, repeat=REPEAT)) / NUMBER * 1e6


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

    # flagport hashes the way the vendor it is compared with does (both are offline).
    fp = Flagport(provider="local", flags=local_flags("statsig"), watch=False)
    fp_gb = Flagport(provider="local", flags=local_flags("growthbook"), watch=False)
    statsig = defs.offline_statsig()
    featbit = defs.offline_featbit()
    uid = "bench-42"
    user = User(user_id=uid, country="DE", custom={"plan": "free"})
    su = StatsigUser(user_id=uid, country="DE", custom={"plan": "free"})
    gb = GrowthBook(features=growthbook_features(), attributes={"id": uid, "country": "DE"})
    fb_user = {"key": uid, "name": uid, "country": "DE"}
    gate, experiment = defs.GATE, defs.EXPERIMENT
    # Same answers first: the timings compare equal work.
    assert fp.check_gate(user, gate) is statsig.check_gate(su, gate)
    assert fp_gb.check_gate(user, gate) is gb.is_on(gate)
    assert fp.get_experiment(user, experiment).group == (
        statsig.get_experiment(su, experiment).group_name
    )
    assert fp_gb.get_config(user, "pricing").value == gb.get_feature_value("pricing", None)

    rows: list[tuple[str, float, float, float]] = []  # label, ours, theirs, target

    def compare(
        label: str, ours: Callable[[], Any], theirs: Callable[[], Any], target: float
    ) -> None:
        o, t = alternate(ours, theirs)
        rows.append((label, o, t, target))
        print(f"  measured {label}: {o:.3f} vs {t:.3f} us", file=sys.stderr, flush=True)

    compare(
        "check_gate (rollout) / Statsig check_gate",
        lambda: fp.check_gate(user, gate),
        lambda: statsig.check_gate(su, gate),
        0.8,
    )
    compare(
        "check_gate (rollout) / GrowthBook is_on",
        lambda: fp_gb.check_gate(user, gate),
        lambda: gb.is_on(gate),
        0.2,
    )
    compare(
        "get_experiment (dedup on) / Statsig get_experiment",
        lambda: fp.get_experiment(user, experiment),
        lambda: statsig.get_experiment(su, experiment),
        0.5,
    )
    compare(
        "get_config / GrowthBook get_feature_value",
        lambda: fp_gb.get_config(user, "pricing"),
        lambda: gb.get_feature_value("pricing", None),
        0.5,
    )

    # Context rows, no targets: result objects, FeatBit, and the cold path: every call
    # for a unit id never seen before, so the hash is computed (memo emptied, untimed,
    # before each repeat), against Statsig on the same fresh ids.
    fresh = [User(user_id=f"fresh-{i}") for i in range(NUMBER)]
    fresh_su = [StatsigUser(user_id=f"fresh-{i}") for i in range(NUMBER)]

    def cold(fn: Callable[[Any], Any], people: list[Any]) -> float:
        def run() -> None:
            for person in people:
                fn(person)

        times = timeit.repeat(run, setup=clear_memo, number=1, repeat=REPEAT)
        return statistics.median(times) / len(people) * 1e6

    extra = [
        ("flagport get_gate (result object)", lambda: fp.get_gate(user, gate)),
        ("GrowthBook eval_feature(experiment)", lambda: gb.eval_feature(experiment)),
        ("FeatBit variation (gate)", lambda: featbit.variation(gate, fb_user, False)),
        (
            "FeatBit variation_detail (experiment)",
            lambda: featbit.variation_detail(experiment, fb_user, {}),
        ),
    ]
    context = [(label, median_us(fn)) for label, fn in extra]
    context += [
        (
            "cold: flagport check_gate, unit never seen",
            cold(lambda u: fp.check_gate(u, gate), fresh),
        ),
        (
            "cold: Statsig check_gate, same units",
            cold(lambda u: statsig.check_gate(u, gate), fresh_su),
        ),
        (
            "cold: flagport get_experiment, unit never seen",
            cold(lambda u: fp.get_experiment(u, experiment), fresh),
        ),
        (
            "cold: Statsig get_experiment, same units",
            cold(lambda u: statsig.get_experiment(u, experiment), fresh_su),
        ),
    ]

    # Flag count: load time, and evaluation cost with 10 vs 10,000 flags.
    with tempfile.TemporaryDirectory() as tmp_dir:
        tmp = Path(tmp_dir)
        big = generated_flags(10_000)
        json_path, yaml_path = tmp / "flags.json", tmp / "flags.yaml"
        json_path.write_text(json.dumps(big))
        import yaml

        yaml_path.write_text(yaml.safe_dump(big, sort_keys=False))
        load_json = timed_load(json_path, runs=3)
        load_yaml = timed_load(yaml_path, runs=3)
        small = Flagport(provider="local", flags=generated_flags(10), watch=False)
        large = Flagport(provider="local", flags=big, watch=False)
        probe = User(user_id="bench-de", country="DE", custom={"plan": "pro"})
        scale = []
        # The same three flags of each kind in both files, so only the flag count
        # differs; the fastest repeat is the least disturbed by other processes.
        for label, prefix, call in (
            ("check_gate", "gate_", "check_gate"),
            ("get_experiment", "exp_", "get_experiment"),
            ("get_config", "config_", "get_config"),
        ):
            three = [f"{prefix}{i}" for i in range(3)]
            on_small, on_large = getattr(small, call), getattr(large, call)
            next_small, next_large = (
                itertools.cycle(three).__next__,
                itertools.cycle(three).__next__,
            )
            s, b = alternate(
                lambda f=on_small, n=next_small: f(probe, n()),
                lambda f=on_large, n=next_large: f(probe, n()),
                min,
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
    for fmt, (cpu, wall) in (("JSON", load_json), ("YAML", load_yaml)):
        met = "yes" if cpu < 2 else "NO"
        print(f"load 10,000-flag {fmt} file: {cpu:.2f} s CPU, {wall:.2f} s wall (< 2 s CPU: {met})")
    header = f"{'10 flags':>11s} {'10k flags':>10s} {'ratio':>7s}"
    print(f"{'evaluation with 10 vs 10,000 flags':52s} {header}")
    for label, s, b in scale:
        print(f"{'  ' + label:52s} {s:11.3f} {b:10.3f} {b / s:6.2f}x")
    flat = all(b / s < 1.25 for _, s, b in scale)
    print(f"evaluation time independent of flag count (within 25%): {'yes' if flat else 'NO'}")
    met = "yes" if latency < 1 else "NO"
    print(f"watched-file edit served after (median of 5): {latency * 1000:.0f} ms (< 1 s: {met})")

    for client in (fp, fp_gb, small, large):
        client.shutdown()
    gb.destroy()
    statsig.shutdown().wait(5)
    featbit.stop()


if __name__ == "__main__":
    main()
