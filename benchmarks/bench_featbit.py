"""flagport over FeatBit vs FeatBit's SDK (``fbclient``) itself, offline, in one process.

Prints per-call medians (``timeit.repeat`` in CPU time of the calling thread) and the
ratio flagport / SDK. The target for the gate check is <= 1.1x the direct
``FBClient.variation`` call with a pre-built user dict. Both sides use the same offline
client set-up and the same definitions, and the ``fbclient`` logger is at WARNING for
both (it logs every evaluation at INFO). Exits 1 when a target is missed.
Run: ``uv run python benchmarks/bench_featbit.py``.
"""

from __future__ import annotations

import json
import logging
import statistics
import time
import timeit
from collections.abc import Callable
from typing import Any

from fbclient import Config, FBClient

from flagport import Flagport, User
from flagport_featbit.testing import data_sync, scenario_flags

NUMBER = 500
REPEAT = 41
TARGET = 1.1


def medians_us(direct: Callable[[], Any], ours: Callable[[], Any]) -> tuple[float, float]:
    """Median per-call microseconds of both, measured alternately in short runs and in
    CPU time of this thread, so that load from other processes on a shared machine
    affects both sides alike and does not count as time spent."""
    a: list[float] = []
    b: list[float] = []
    for _ in range(REPEAT):
        a += timeit.repeat(direct, number=NUMBER, repeat=1, timer=time.thread_time)
        b += timeit.repeat(ours, number=NUMBER, repeat=1, timer=time.thread_time)
    return statistics.median(a) / NUMBER * 1e6, statistics.median(b) / NUMBER * 1e6


def main() -> None:
    logging.getLogger("fbclient").setLevel(logging.WARNING)
    payload = data_sync(scenario_flags())
    sdk = FBClient(
        Config("bench", "http://offline.invalid", "ws://offline.invalid", offline=True),
        start_wait=0,
    )
    assert sdk.initialize_from_external_json(json.dumps(payload))
    fp = Flagport(provider="featbit", offline=True, bootstrap=payload)

    us_dict = {"key": "bench-us", "name": "bench-us", "country": "US", "plan": "pro"}
    de_dict = {"key": "bench-de", "name": "bench-de", "country": "DE", "plan": "free"}
    us = User(user_id="bench-us", country="US", custom={"plan": "pro"})
    de = User(user_id="bench-de", country="DE", custom={"plan": "free"})
    provider = fp.provider
    assert (
        fp.check_gate(us, "new_checkout") is sdk.variation("new_checkout", us_dict, False) is True
    )
    assert fp.check_gate(de, "new_checkout") is sdk.variation("new_checkout", de_dict, False)

    rows = [
        (
            "gate new_checkout, US user (rule)",
            lambda: sdk.variation("new_checkout", us_dict, False),
            lambda: fp.check_gate(us, "new_checkout"),
            TARGET,
        ),
        (
            "gate new_checkout, DE user (50% rollout)",
            lambda: sdk.variation("new_checkout", de_dict, False),
            lambda: fp.check_gate(de, "new_checkout"),
            TARGET,
        ),
        (
            "  provider.check_gate alone, DE user",
            lambda: sdk.variation("new_checkout", de_dict, False),
            lambda: provider.check_gate(de, "new_checkout"),
            None,
        ),
        (
            "get_gate (result object), DE user",
            lambda: sdk.variation_detail("new_checkout", de_dict, False),
            lambda: fp.get_gate(de, "new_checkout"),
            None,
        ),
        (
            "experiment button_color (group + value)",
            lambda: sdk.variation_detail("button_color", de_dict, {}),
            lambda: fp.get_experiment(de, "button_color", expose=False),
            None,
        ),
        (
            "config pricing",
            lambda: sdk.variation("pricing", us_dict, {}),
            lambda: fp.get_config(us, "pricing"),
            None,
        ),
    ]
    print(f"{'operation':44} {'SDK µs':>9} {'flagport µs':>12} {'ratio':>7}  target")
    failed = False
    for label, direct, ours, target in rows:
        sdk_us, our_us = medians_us(direct, ours)
        ratio = our_us / sdk_us
        verdict = ""
        if target is not None:
            ok = ratio <= target
            failed |= not ok
            verdict = f"<= {target}x {'ok' if ok else 'MISSED'}"
        print(f"{label:44} {sdk_us:9.2f} {our_us:12.2f} {ratio:6.2f}x  {verdict}")
    fp.shutdown()
    sdk.stop()
    if failed:
        raise SystemExit(1)


if __name__ == "__main__":
    main()
