"""What a migration costs: the ``migration`` provider vs its two providers alone.

Run: ``uv run python benchmarks/bench_migration.py [--seconds N]``.

Statsig (old) and GrowthBook (new), both offline from the same scenario, in one
process, for gates (``check_gate``), experiments and configs over the same pre-built
users. Every timed run of the migration provider waits until its comparisons are
done (``drain``), so what they cost is inside the figure.

Both rates are measured the same way: CPU totals of the whole process (every thread:
the worker's comparisons are inside the figure) over interleaved blocks of ``BLOCK``
rounds, for ``--seconds`` per operation; a migration's block ends when its worker has
compared what the block queued and stopped running (see ``finished``), and every
block of every variant ends with the same pause (``SETTLE_S``), so that no variant is
timed under kinder conditions. CPU time, not wall time: on a shared machine wall time
adds how long the busy machine takes to schedule the worker.

* **sample rate 1.0**: ``shadow`` comparing every evaluation, with the secondary on
  the worker (``compare_on = "worker"``, the default) and on the caller's thread
  (``"caller"``), against the old and new providers alone (target: the worker at most
  1.30 times their sum) and against both called one after the other with nothing
  compared (what alternating two SDKs costs by itself: they evict each other from the
  CPU caches). The last column is traffic in **bursts**: each round of 200 evaluations
  followed by a pause that lets the worker go idle (the fastest of many such rounds).
  A burst pays a wake-up of the worker and an idle core's cold caches; steady traffic
  pays two threads working at once on neighbouring cores. Which costs more depends on
  the machine and its load (on the 2-core development machine each was the dearer in
  some runs, by up to 0.1), so both are printed.
* **sample rate 0.01**: ``shadow`` comparing one evaluation in a hundred (drawn per
  call), against the old provider alone (target: at most 1.05 times).

At 0.01 each row also prints the **floor**: what any design that serves through one
Python call and compares one evaluation in a hundred must cost, from figures of the
same run measured the same way as the row: ``(old via one call + 0.01 x new) / old``.
A provider is one Python function between the caller and the served provider, so
the old provider called through a plain forwarding function is the least an
evaluation costs; the secondary costs at least what it costs alone, warm, in a loop.
Where the floor is above the target (a gate of ~2.4 µs: one plain call and 1 % of a
~7 µs secondary are already ~5 %), no design reaches the target; what the migration
provider costs above the floor is its own. The **routed floor** adds the least that
the migration feature itself asks of every call: finding the flag's route (stages and
ramps are per flag) and drawing whether to compare it (sampling is per call), here one
dictionary lookup and one ``random()``. (At 1.0 the floor, old + new + one call,
is far below the target; "both, nothing compared" shows what alternating the two
SDKs call by call costs, which a worker comparing in batches partly avoids.)
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from collections.abc import Callable

from rich.console import Console
from rich.table import Table

from flagport import User
from flagport.provider import Provider
from flagport.providers.migration import MigrationProvider
from flagport.providers.migration.options import build_side
from flagport_growthbook.testing import scenario_payload
from flagport_statsig.testing import scenario_specs

USERS = [
    User(user_id=f"user-{i}", country=("US", "DE", "FR")[i % 3], custom={"plan": "pro"})
    for i in range(100)
]
LOOPS = 2
ROUNDS = 200
FULL_TARGET = 1.30
"""Shadow at sample rate 1.0, compared on the worker: at most this times old + new."""
SETTLE_S = 0.002
"""Seconds slept after a drain, for the worker to reach its wait (see ``finished``), and
before every timed round of every variant (see ``pause``)."""
BLOCK = 25
"""Rounds per timed block at sample rate 0.01."""
LOW_RATE = 0.01
LOW_TARGET = 1.05
"""Shadow at sample rate 0.01: at most this times the old provider alone."""
OPERATIONS = (
    ("gate", "check_gate", "new_checkout"),
    ("experiment", "evaluate_experiment", "button_color"),
    ("config", "evaluate_config", "pricing"),
)
OLD = {"provider": "statsig", "offline": True, "bootstrap": scenario_specs()}
NEW = {"provider": "growthbook", "offline": True, "bootstrap": scenario_payload()}


def started(provider: Provider) -> Provider:
    provider.start()
    return provider


def migration(sample_rate: float, compare_on: str = "worker") -> MigrationProvider:
    provider = MigrationProvider.from_options(
        **{"from": OLD, "to": NEW},
        stage="shadow",
        sample_rate=sample_rate,
        compare_on=compare_on,
    )
    assert isinstance(provider, MigrationProvider)
    provider.start()
    return provider


def loop(provider: Provider, method: str, flag: str, drain: bool = True) -> Callable[[], None]:
    """One round: every user twice, then (a migration, with ``drain``) its comparisons."""
    calls = loop_calls(getattr(provider, method), flag)
    if not drain or not isinstance(provider, MigrationProvider):
        return calls
    finish = finished(provider)

    def run() -> None:
        calls()
        finish()

    return run


def finished(provider: MigrationProvider) -> Callable[[], None]:
    """Wait for ``provider``'s comparisons, then for its worker to stop running."""

    def finish() -> None:
        provider.drain(5)
        # The kernel adds a thread's CPU time to the process clock when the thread stops
        # running; a worker still on its core after the drain would be charged to the
        # next timed run (another variant's). A sleep costs no CPU time.
        pause()

    return finish


def pause() -> None:
    """The pause every timed round starts after, whatever the variant (see ``finished``)."""
    time.sleep(SETTLE_S)


def both(old: Provider, new: Provider, method: str, flag: str) -> Callable[[], None]:
    first, second = getattr(old, method), getattr(new, method)

    def run() -> None:
        for _ in range(LOOPS):
            for user in USERS:
                first(user, flag, expose=False)
                second(user, flag, expose=False)

    return run


def forwarded(provider: Provider, method: str, flag: str) -> Callable[[], None]:
    """One round of ``provider`` called through one plain Python function."""
    call = getattr(provider, method)

    def through(user: User, name: str, *, expose: bool = True) -> object:
        return call(user, name, expose=expose)

    return loop_calls(through, flag)


def routed(provider: Provider, method: str, flag: str) -> Callable[[], None]:
    """One round of ``provider`` called through the least a migration must do per call:
    find the flag's route (its stage is per flag) and draw whether to compare (sampling
    is per call); nothing is ever compared, so the secondary is not in it."""
    routes = {flag: getattr(provider, method)}
    draw = random.Random(0).random

    def through(user: User, name: str, *, expose: bool = True) -> object:
        if draw() < 0.0:  # the draw, never taken: the comparisons are the floor's other term
            raise AssertionError
        return routes[name](user, name, expose=expose)

    return loop_calls(through, flag)


def loop_calls(call: Callable[..., object], flag: str) -> Callable[[], None]:
    """Every user ``LOOPS`` times through ``call``."""

    def run() -> None:
        for _ in range(LOOPS):
            for user in USERS:
                call(user, flag, expose=False)

    return run


def block(run: Callable[[], None], then: Callable[[], object] = object) -> Callable[[], None]:
    """``BLOCK`` rounds of ``run``, then ``then()``."""

    def rounds() -> None:
        for _ in range(BLOCK):
            run()
        then()

    return rounds


def block_totals(
    blocks: dict[str, Callable[[], None]], seconds: float
) -> tuple[dict[str, float], int]:
    """CPU totals of each variant's blocks, run in turns for ``seconds``, and the rounds
    each ran (after one untimed block each, to warm up)."""
    for run in blocks.values():
        run()
    totals, rounds = dict.fromkeys(blocks, 0.0), 0
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        for name, run in blocks.items():
            totals[name] += cpu_seconds(run)
        rounds += BLOCK
    return totals, rounds


def cpu_seconds(fn: Callable[[], None]) -> float:
    start = time.process_time()
    fn()
    return time.process_time() - start


def per_call_us(seconds: float, rounds: int = 1) -> float:
    return seconds / (rounds * LOOPS * len(USERS)) * 1e6


def ratio_cell(ratio: float, target: float) -> str:
    return f"[{'green' if ratio <= target else 'red'}]{ratio:.2f}[/]"


def then(provider: Provider) -> Callable[[], None]:
    """What ends a block of ``provider``'s rounds: its comparisons, then the pause."""
    return finished(provider) if isinstance(provider, MigrationProvider) else pause


def burst_ratio(old: Provider, new: Provider, migration: Provider, method: str, flag: str) -> float:
    """worker / (old+new) when every round of 200 evaluations is followed by a pause: the
    fastest of many short interleaved rounds, each starting after the pause."""
    runners = [loop(p, method, flag) for p in (old, new, migration)]
    for run in runners:
        run()  # warm up: every side converts and caches its users
    best = [float("inf")] * len(runners)
    for _ in range(ROUNDS):
        for i, run in enumerate(runners):
            run()  # steady state: the timed run follows one of its own, not another's
            pause()
            best[i] = min(best[i], cpu_seconds(run))
    return best[2] / (best[0] + best[1])


def full_sampling(console: Console, old: Provider, new: Provider, seconds: float) -> int:
    variants: dict[str, Provider] = {
        "old alone (statsig)": old,
        "new alone (growthbook)": new,
        "shadow 1.0, worker": migration(1.0),
        "shadow 1.0, caller": migration(1.0, "caller"),
    }
    names = list(variants)
    table = Table(
        title=f"sample rate 1.0: µs of CPU per evaluation (totals over {seconds:g} s each)"
    )
    table.add_column("operation")
    for name in [*names[:2], "both, nothing compared", *names[2:]]:
        table.add_column(name, justify="right")
    table.add_column("both / (old+new)", justify="right")
    table.add_column(f"worker / (old+new)\ntarget <= {FULL_TARGET:.2f}", justify="right")
    table.add_column("caller / (old+new)", justify="right")
    table.add_column("bursts of 200:\nworker / (old+new)", justify="right")
    failures = 0
    for kind, method, flag in OPERATIONS:
        blocks = {
            name: block(loop(p, method, flag, drain=False), then(p)) for name, p in variants.items()
        }
        blocks["both"] = block(both(old, new, method, flag), pause)
        totals, rounds = block_totals(blocks, seconds)
        alone = totals[names[0]] + totals[names[1]]
        worker, caller = (totals[name] / alone for name in names[2:])
        failures += worker > FULL_TARGET
        bursts = burst_ratio(
            variants[names[0]], variants[names[1]], variants[names[2]], method, flag
        )
        table.add_row(
            kind,
            *(
                f"{per_call_us(totals[name], rounds):.2f}"
                for name in [*names[:2], "both", *names[2:]]
            ),
            f"{totals['both'] / alone:.2f}",
            ratio_cell(worker, FULL_TARGET),
            f"{caller:.2f}",
            f"{bursts:.2f}",
        )
    console.print(table)
    for name in names[2:]:
        flags = variants[name].stats()["flags"]
        console.print(
            f"compared ({name}): "
            + ", ".join(f"{flag} {data['compared']}" for flag, data in sorted(flags.items()))
        )
        variants[name].shutdown(2)
    return failures


def low_sampling(console: Console, old: Provider, new: Provider, seconds: float) -> int:
    sampled = {"worker": migration(LOW_RATE), "caller": migration(LOW_RATE, "caller")}
    table = Table(
        title=f"sample rate 0.01: µs of CPU per evaluation (totals over {seconds:g} s each)"
    )
    table.add_column("operation")
    for column in ("old alone (statsig)", "shadow 0.01, worker", "shadow 0.01, caller"):
        table.add_column(column, justify="right")
    table.add_column("compared share", justify="right")
    table.add_column(f"floor: (old via one\ncall + {LOW_RATE} x new) / old", justify="right")
    table.add_column("routed floor: + route\nlookup and draw", justify="right")
    table.add_column(f"worker / old\ntarget <= {LOW_TARGET:.2f}", justify="right")
    table.add_column("caller / old", justify="right")
    failures = 0
    for kind, method, flag in OPERATIONS:
        blocks = {"old": block(loop(old, method, flag), pause)}
        for name, p in sampled.items():
            blocks[name] = block(loop(p, method, flag, drain=False), finished(p))
        blocks["old via one call"] = block(forwarded(old, method, flag), pause)
        blocks["old routed"] = block(routed(old, method, flag), pause)
        blocks["new"] = block(loop(new, method, flag), pause)
        before = sampled["worker"].stats()["flags"].get(flag, {}).get("compared", 0)
        totals, rounds = block_totals(blocks, seconds)
        compared = sampled["worker"].stats()["flags"][flag]["compared"] - before
        ratio = totals["worker"] / totals["old"]
        floor = (totals["old via one call"] + LOW_RATE * totals["new"]) / totals["old"]
        routed_floor = (totals["old routed"] + LOW_RATE * totals["new"]) / totals["old"]
        failures += ratio > LOW_TARGET
        table.add_row(
            kind,
            *(f"{per_call_us(totals[name], rounds):.3f}" for name in ("old", *sampled)),
            f"{compared / (rounds * LOOPS * len(USERS)):.2%}",
            f"{floor:.3f}",
            f"{routed_floor:.3f}",
            ratio_cell(ratio, LOW_TARGET),
            f"{totals['caller'] / totals['old']:.2f}",
        )
    console.print(table)
    for provider in sampled.values():
        provider.shutdown(2)
    return failures


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=8.0, help="per operation and rate")
    args = parser.parse_args()
    console = Console(width=max(Console().width, 180))
    old, new = started(build_side("from", OLD)), started(build_side("to", NEW))
    console.print(f"{len(USERS)} users x {LOOPS} loops per round")
    failures = full_sampling(console, old, new, args.seconds)
    failures += low_sampling(console, old, new, args.seconds)
    old.shutdown(2)
    new.shutdown(2)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
