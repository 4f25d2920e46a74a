"""flagport over GrowthBook vs GrowthBook's own multi-user pattern, offline, one process.

GrowthBook's synchronous SDK holds one user's attributes per instance, so its own way
to serve many users from one instance is ``gb.set_attributes(attrs)`` then
``gb.is_on(key)``. That is the baseline; the target for ``Flagport.check_gate`` is
<= 1.0x of it. Both sides cycle through the same pre-built users (attribute dicts for
the SDK, ``flagport.User`` objects for flagport), and are measured alternately so
load from other processes affects both alike.

Run: ``uv run python benchmarks/bench_growthbook.py``.
"""

from __future__ import annotations

import itertools
import statistics
import timeit
from collections.abc import Callable
from typing import Any

from growthbook import GrowthBook

from flagport import Flagport, User
from flagport_growthbook.testing import scenario_payload

NUMBER = 20_000
REPEAT = 9
USERS = 100


def medians_us(direct: Callable[[], Any], ours: Callable[[], Any]) -> tuple[float, float]:
    """Median microseconds per call of each side, measured in alternation.

    The side that goes first alternates too, so a load change on a shared machine
    during a pair does not favour one side.
    """
    sdk: list[float] = []
    flagport: list[float] = []
    for i in range(REPEAT):
        if i % 2:
            flagport += timeit.repeat(ours, number=NUMBER, repeat=1)
            sdk += timeit.repeat(direct, number=NUMBER, repeat=1)
        else:
            sdk += timeit.repeat(direct, number=NUMBER, repeat=1)
            flagport += timeit.repeat(ours, number=NUMBER, repeat=1)
    return statistics.median(sdk) / NUMBER * 1e6, statistics.median(flagport) / NUMBER * 1e6


def people(country: str | None) -> tuple[list[dict[str, Any]], list[User]]:
    """The same users as GrowthBook attribute dicts and as flagport users."""
    users = [
        User(
            user_id=f"bench-{i}",
            country=country or ("US" if i % 2 else "DE"),
            custom={"plan": "pro" if i % 3 else "free"},
        )
        for i in range(USERS)
    ]
    attrs = [{"id": u.user_id, **u.attributes} for u in users]
    return attrs, users


def main() -> None:
    payload = scenario_payload()
    gb = GrowthBook(features=payload["features"])
    fp = Flagport(provider="growthbook", offline=True, bootstrap=payload)

    rows: list[tuple[str, Callable[[], Any], Callable[[], Any]]] = []
    for label, country in (("US users (first rule)", "US"), ("DE users (50% rollout)", "DE")):
        attrs, users = people(country)
        for a, u in zip(attrs, users, strict=True):
            gb.set_attributes(a)
            assert gb.is_on("new_checkout") is fp.check_gate(u, "new_checkout")
        next_attrs = itertools.cycle(attrs).__next__
        next_user = itertools.cycle(users).__next__

        def sdk_gate(n: Callable[[], dict[str, Any]] = next_attrs) -> bool:
            gb.set_attributes(n())
            return gb.is_on("new_checkout")

        def fp_gate(n: Callable[[], User] = next_user) -> bool:
            return fp.check_gate(n(), "new_checkout")

        rows.append((f"check_gate, {label}", sdk_gate, fp_gate))

    attrs, users = people(None)
    next_attrs = itertools.cycle(attrs).__next__
    next_user = itertools.cycle(users).__next__

    def sdk_experiment() -> Any:
        gb.set_attributes(next_attrs())
        result = gb.eval_feature("button_color").experimentResult
        return result.key if result is not None else None

    def fp_experiment() -> Any:
        return fp.get_experiment(next_user(), "button_color", expose=False).group

    def sdk_config() -> Any:
        gb.set_attributes(next_attrs())
        return gb.get_feature_value("pricing", {})

    def fp_config() -> Any:
        return fp.get_config(next_user(), "pricing").value

    def sdk_detail() -> Any:
        gb.set_attributes(next_attrs())
        return gb.eval_feature("new_checkout").on

    def fp_detail() -> Any:
        return fp.get_gate(next_user(), "new_checkout").value

    rows += [
        ("get_gate (reason, rule) vs eval_feature", sdk_detail, fp_detail),
        ("experiment group vs eval_feature", sdk_experiment, fp_experiment),
        ("config value vs get_feature_value", sdk_config, fp_config),
    ]

    print(
        f"GrowthBook {getattr(__import__('growthbook'), '__version__', '?')} offline, "
        f"{USERS} users cycled, timeit.repeat(number={NUMBER}, repeat={REPEAT}), "
        "median per call; SDK side = set_attributes + call"
    )
    print(f"{'operation':44} {'SDK us':>8} {'flagport us':>12} {'ratio':>7}")
    for label, direct, ours in rows:
        d, o = medians_us(direct, ours)
        print(f"{label:44} {d:8.3f} {o:12.3f} {o / d:6.2f}x")
    fp.shutdown()
    gb.destroy()


if __name__ == "__main__":
    main()
