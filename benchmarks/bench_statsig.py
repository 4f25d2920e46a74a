"""flagport over Statsig vs the Statsig SDK itself, offline, in one process.

Prints per-call medians (``timeit.repeat``), the ratio flagport / SDK of the medians
and of the fastest runs. The target
for the gate check is <= 1.25x the direct SDK ``check_gate`` with a pre-built
``StatsigUser``. Run: ``uv run python benchmarks/bench_statsig.py``.
"""

from __future__ import annotations

import json
import statistics
import timeit
from collections.abc import Callable
from typing import Any

from statsig_python_core import (
    FeatureGateEvaluationOptions,
    Statsig,
    StatsigOptions,
    StatsigUser,
)

from flagport import Flagport, User
from flagport_statsig._convert import _SpecsStore
from flagport_statsig.testing import SpecsBuilder, public, rule, scenario_specs

NUMBER = 20_000
REPEAT = 7


#: Parameters of the large configs (a value the provider must not serialise per call).
LARGE = 2_000


def medians_us(
    direct: Callable[[], Any], ours: Callable[[], Any], number: int = NUMBER
) -> tuple[float, float, float]:
    """Median per-call microseconds of both, measured alternately so that load from
    other processes on the machine affects both sides alike; and the ratio of the
    fastest runs (the least disturbed by that load)."""
    a: list[float] = []
    b: list[float] = []
    for _ in range(REPEAT):
        a += timeit.repeat(direct, number=number, repeat=1)
        b += timeit.repeat(ours, number=number, repeat=1)
    return (
        statistics.median(a) / number * 1e6,
        statistics.median(b) / number * 1e6,
        min(b) / min(a),
    )


def with_large_configs(specs: dict[str, Any]) -> dict[str, Any]:
    """``specs`` plus ``large``, whose one rule serves everyone a value of ``LARGE``
    parameters, and ``large_half``, whose rule serves it to half the users and the
    (as large) default to the rest."""
    value = {f"p{i}": {"n": i, "s": f"v{i}", "on": i % 2 == 0} for i in range(LARGE)}
    other = {key: {**param, "n": -1} for key, param in value.items()}
    large = (
        SpecsBuilder(specs["time"])
        .config("large", other, [rule("all", [public()], value=value)])
        .config("large_half", other, [rule("half", [public()], pass_percentage=50, value=value)])
        .build()
    )
    merged = dict(specs)
    merged["dynamic_configs"] = {**specs["dynamic_configs"], **large["dynamic_configs"]}
    merged["condition_map"] = {**specs.get("condition_map", {}), **large["condition_map"]}
    return merged


def main() -> None:
    specs = with_large_configs(scenario_specs())
    sdk = Statsig(
        "secret-bench",
        StatsigOptions(
            disable_network=True,
            data_store=_SpecsStore(json.dumps(specs)),  # the SDK's offline recipe
            disable_country_lookup=True,
            output_log_level="none",
        ),
    )
    sdk.initialize().wait(10)
    fp = Flagport(provider="statsig", offline=True, bootstrap=specs)

    us_su = StatsigUser(user_id="bench-us", country="US", custom={"plan": "pro"})
    de_su = StatsigUser(user_id="bench-de", country="DE", custom={"plan": "free"})
    us = User(user_id="bench-us", country="US", custom={"plan": "pro"})
    de = User(user_id="bench-de", country="DE", custom={"plan": "free"})
    quiet = FeatureGateEvaluationOptions(disable_exposure_logging=True)
    assert fp.check_gate(us, "new_checkout") is sdk.check_gate(us_su, "new_checkout")
    assert fp.check_gate(de, "new_checkout") is sdk.check_gate(de_su, "new_checkout")

    rows: list[tuple[str, Callable[[], Any], Callable[[], Any], int]] = [
        (
            "check_gate, US user (first rule)",
            lambda: sdk.check_gate(us_su, "new_checkout"),
            lambda: fp.check_gate(us, "new_checkout"),
            NUMBER,
        ),
        (
            "check_gate, DE user (50% rollout)",
            lambda: sdk.check_gate(de_su, "new_checkout"),
            lambda: fp.check_gate(de, "new_checkout"),
            NUMBER,
        ),
        (
            "check_gate, no exposure",
            lambda: sdk.check_gate(us_su, "new_checkout", quiet),
            lambda: fp.check_gate(us, "new_checkout", expose=False),
            NUMBER,
        ),
        (
            "get_gate (with reason) vs get_feature_gate",
            lambda: sdk.get_feature_gate(us_su, "new_checkout").value,
            lambda: fp.get_gate(us, "new_checkout").value,
            NUMBER,
        ),
        (
            "experiment group",
            lambda: sdk.get_experiment(us_su, "button_color").group_name,
            lambda: fp.get_experiment(us, "button_color").group,
            NUMBER,
        ),
        (
            "config value",
            lambda: sdk.get_dynamic_config(us_su, "pricing").get_value(),
            lambda: fp.get_config(us, "pricing").value,
            NUMBER,
        ),
        (
            f"config value, {LARGE} parameters",
            lambda: sdk.get_dynamic_config(us_su, "large").get_value(),
            lambda: fp.get_config(us, "large").value,
            NUMBER // 100,
        ),
        (
            f"config value, {LARGE} parameters, 50% rollout",
            lambda: sdk.get_dynamic_config(de_su, "large_half").get_value(),
            lambda: fp.get_config(de, "large_half").value,
            NUMBER // 100,
        ),
    ]
    print(
        f"Statsig offline, timeit.repeat(number={NUMBER} or less, repeat={REPEAT}), median per call"
    )
    print(f"{'operation':44} {'SDK us':>8} {'flagport us':>12} {'ratio':>7} {'best':>7}")
    for label, direct, ours, number in rows:
        d, o, best = medians_us(direct, ours, number)
        print(f"{label:44} {d:8.3f} {o:12.3f} {o / d:6.2f}x {best:6.2f}x")
    fp.shutdown()
    sdk.shutdown().wait(5)


if __name__ == "__main__":
    main()
