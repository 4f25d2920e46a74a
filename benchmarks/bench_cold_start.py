"""What a fresh process pays before its first answer: imports, first evaluation, the CLI.

A CLI call, a serverless function or a worker that forks per task pays these every
time. Each figure is the median over fresh interpreters (``python -c ...``), measured
in turns so that load from other processes hits every row alike:

* ``import pydantic``, ``import flagport``, ``import statsig_python_core``,
  ``import growthbook``: the import alone, timed inside the child (interpreter start-up
  is the separate row ``python -c pass``, timed from outside);
* ``pydantic + one model class``: the floor for any library that defines a pydantic
  model at import (``import pydantic`` alone is lazy and builds nothing);
* first evaluation: ``Flagport(provider="local", path="examples/flags.yaml")`` and one
  ``check_gate``, timed inside the child after ``import flagport``;
* ``flagport --help``: the whole command, timed from outside;
* then the first evaluation step by step (CPU time): where what is left goes.

Goals (issue 14, "Cold start"): ``import flagport`` at most 50 ms more than
``import pydantic``; the first evaluation at most 50 ms after import; ``flagport --help``
at most 300 ms. ``import flagport`` imports its public names on first use, so the
import and the first evaluation trade cost: the report also prints both timed in one
process (a cold start), and its part over ``pydantic + one model class`` (a floor:
``flagport.User`` is a pydantic model), flagport's own share: the median over the
turns of the cold start minus the floor timed in the same turn, so that load drifting
between turns does not move it. To see where the time goes: ``python -X importtime -c
"import flagport; flagport.User"``.

A first local evaluation builds only what it uses (``tests/core/test_structure.py``
holds each of these): no other provider's options (providers register by reference), no
settings section nobody set (``[sticky]``, ``[opentelemetry]``), no ``Event`` model until
an event object is made, no ``EventSettings`` or ``UrlOptions`` validator without their
settings, no RE2 until a file has a regular expression, no model field whose default
factory is a builtin (pydantic parses a builtin's signature with ``tokenize``, whose
first use compiles a large regular expression), no TOML parser (``tomllib`` compiles its
regular expressions at import) unless a settings file can hold flagport's settings (a
``pyproject.toml`` naming flagport only as a dependency or another tool's key, as this
repository's does, is not parsed), and none of the document reader's error-path
patterns. Nor does it build a schema nobody validates: ``RuleDef``, the base of the three
rule models, is deferred, and the flags file's models are built from annotations Python
evaluated (no ``from __future__ import annotations`` in their modules: pydantic would
compile and evaluate every annotation's text).

What is left of flagport's share, in CPU ms measured one module at a time after the floor
(``python -X importtime`` and ``cProfile`` agree on the order):

* the flags file's models, ~15: seventeen classes, the format itself, about 1 ms each
  in pydantic. Deferring them (``defer_build``) was measured and costs more, not less: a
  section's model built on first use builds the rule models it shares with the other
  sections again (loading ``examples/flags.yaml``: ~32 ms instead of ~24), and a file
  with gates, experiments and configs validates all of them anyway.
* PyYAML, ~10: parsing already goes through libyaml (``CSafeLoader``), but the C module
  ``yaml._yaml`` imports the ``yaml`` package, whose ``__init__`` imports the pure-Python
  reader (its pattern of printable characters alone takes ~4.5 ms to compile), scanner,
  parser, emitter and dumper. There is no leaner import path; a JSON or TOML flags file
  does not import YAML at all.
* the plugin manager, ~5: the entry-point scan (~2, reading only the ``entry_points.txt``
  files that mention ``flagport``), the plugins' modules (~1.5) and pluggy's
  registration (~1.5). A client of a built-in provider cannot skip it: settings sections,
  event sinks and observers come from plugins too.
* the condition language, ~6 (its package with every operator set); the client,
  provider, results and user modules, ~10, of which some twenty dataclasses are ~0.4 ms
  each (``slots=True`` builds each class twice; a ``NamedTuple`` costs ~0.07 ms, but
  most are public types, ``GateResult``, ``FlagNames``..., whose dataclass behaviour is
  API); reading, validating, compiling and evaluating the file, ~4; and some ninety
  modules' own code.

Each row shows wall time and the CPU time of the process (user + system). On a loaded
machine the wall time stretches with everyone else's work while the CPU time barely
moves, so the CPU column is the one to compare between runs there.

Children run with a bytecode cache (``PYTHONPYCACHEPREFIX`` in a temporary folder,
filled by one warm-up round), as an installed package has: with
``PYTHONDONTWRITEBYTECODE`` set, as in some development shells, every import compiles
its source again and that dominates. ``--no-bytecode`` measures that case.

Run: ``uv run python benchmarks/bench_cold_start.py`` (``--runs N``, default 11).
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
FLAGS = ROOT / "examples" / "flags.yaml"

# Each child prints the wall and CPU seconds its measured part took.
_CLOCKS = "import time; w, c = time.perf_counter(), time.process_time()\n"
_REPORT = "\nprint(time.perf_counter() - w, time.process_time() - c)\n"
_TIMED_IMPORT = _CLOCKS + "import {module}" + _REPORT
# What any library defining one pydantic model at import pays: ``import pydantic`` alone
# is lazy, the first model class imports pydantic's schema machinery and looks up its
# plugins (an entry-point scan over every installed distribution).
_ONE_MODEL = _CLOCKS + "from pydantic import BaseModel\nclass M(BaseModel):\n    x: int" + _REPORT
_EVALUATE = (
    f"fp = flagport.Flagport(provider='local', path={str(FLAGS)!r})\n"
    + "fp.check_gate(flagport.User(user_id='42', country='DE'), 'new_checkout')"
)
_FIRST_EVALUATION = "import flagport\n" + _CLOCKS + _EVALUATE + _REPORT + "fp.shutdown()\n"
# What a cold start pays, in one process: compared round by round with the floor.
_COLD_START = _CLOCKS + "import flagport\n" + _EVALUATE + _REPORT + "fp.shutdown()\n"

# Where the first evaluation's CPU time goes, step by step, in one fresh process each.
_STEPS = (
    ("flagport.User: pydantic, its schema machinery, User", "flagport.User"),
    ("flagport.Flagport: client, events, results", "flagport.Flagport"),
    (
        "Flagport(...): settings, plugins, local provider",
        f"fp = flagport.Flagport(provider='local', path={str(FLAGS)!r})",
    ),
    (
        "first check_gate: read YAML, compile, evaluate",
        "fp.check_gate(flagport.User(user_id='42', country='DE'), 'new_checkout')",
    ),
)
_BREAKDOWN = (
    "import time\nimport flagport\nclock = time.process_time\nsteps = []\n"
    + "".join(f"t = clock()\n{code}\nsteps.append(clock() - t)\n" for _, code in _STEPS)
    + "print(*steps)\nfp.shutdown()\n"
)

Sample = tuple[float, float]  # (wall, cpu) seconds
FLOOR = "pydantic + one model class"
COLD_START = "import flagport + first evaluation"
OWN_SHARE = "  minus pydantic + one model class"


def _printed(code: str, env: dict[str, str]) -> list[str]:
    """What a fresh interpreter running ``code`` prints, as words."""
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT, env=env
    )
    return done.stdout.split()


def _child(code: str, env: dict[str, str]) -> Callable[[], Sample]:
    def run() -> Sample:
        wall, cpu = _printed(code, env)[-2:]
        return float(wall), float(cpu)

    return run


def _whole(command: list[str], env: dict[str, str]) -> Callable[[], Sample]:
    def run() -> Sample:
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        start = time.perf_counter()
        subprocess.run(command, capture_output=True, check=True, cwd=ROOT, env=env)
        wall = time.perf_counter() - start
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
        return wall, cpu

    return run


def child_environment(bytecode: bool, cache: str) -> dict[str, str]:
    """The children's environment: with a bytecode cache in ``cache``, or without any."""
    env = dict(os.environ)
    if bytecode:
        env.pop("PYTHONDONTWRITEBYTECODE", None)
        env["PYTHONPYCACHEPREFIX"] = cache
    else:
        env["PYTHONDONTWRITEBYTECODE"] = "1"
    return env


def measurements(env: dict[str, str]) -> dict[str, Callable[[], Sample]]:
    """Row name -> a function that runs one fresh process and returns its seconds."""
    cli = shutil.which("flagport", path=str(Path(sys.executable).parent)) or "flagport"
    return {
        "python -c pass (start-up)": _whole([sys.executable, "-c", "pass"], env),
        "import pydantic": _child(_TIMED_IMPORT.format(module="pydantic"), env),
        FLOOR: _child(_ONE_MODEL, env),
        "import flagport": _child(_TIMED_IMPORT.format(module="flagport"), env),
        "import statsig_python_core": _child(
            _TIMED_IMPORT.format(module="statsig_python_core"), env
        ),
        "import growthbook": _child(_TIMED_IMPORT.format(module="growthbook"), env),
        "first evaluation (after import)": _child(_FIRST_EVALUATION, env),
        COLD_START: _child(_COLD_START, env),
        "flagport --help (whole command)": _whole([cli, "--help"], env),
    }


def run(runs: int, env: dict[str, str]) -> dict[str, tuple[float, float]]:
    """Median (wall, CPU) milliseconds per row, the rows measured in turns.

    Also the row :data:`OWN_SHARE`: the median, over the turns, of the cold start minus
    the floor measured in the same turn. On a machine shared with other work the load
    drifts between turns; a difference of two medians would carry that drift, the
    median of differences taken a few seconds apart mostly does not.
    """
    rows = measurements(env)
    for measure in rows.values():  # warm-up: fills the bytecode cache
        measure()
    walls: dict[str, list[float]] = {name: [] for name in [*rows, OWN_SHARE]}
    cpus: dict[str, list[float]] = {name: [] for name in [*rows, OWN_SHARE]}
    for _ in range(runs):
        for name, measure in rows.items():
            wall, cpu = measure()
            walls[name].append(wall * 1000)
            cpus[name].append(cpu * 1000)
        walls[OWN_SHARE].append(walls[COLD_START][-1] - walls[FLOOR][-1])
        cpus[OWN_SHARE].append(cpus[COLD_START][-1] - cpus[FLOOR][-1])
    return {name: (statistics.median(walls[name]), statistics.median(cpus[name])) for name in walls}


def breakdown(runs: int, env: dict[str, str]) -> list[float]:
    """Median CPU milliseconds of each step of the first evaluation (:data:`_STEPS`)."""
    samples: list[list[float]] = [[] for _ in _STEPS]
    for _ in range(runs):
        for step, seconds in zip(samples, _printed(_BREAKDOWN, env)[-len(_STEPS) :], strict=True):
            step.append(float(seconds) * 1000)
    return [statistics.median(step) for step in samples]


def report_breakdown(steps: list[float], ms: dict[str, tuple[float, float]]) -> None:
    """Print where the first evaluation's CPU time goes, against pydantic's own floor."""
    floor = ms[FLOOR][1]
    print("first evaluation, step by step (cpu ms, median)")
    for (name, _), cpu in zip(_STEPS, steps, strict=True):
        print(f"  {name:<52} {cpu:8.1f}")
    print(
        f"  {'(pydantic + one model class alone, for comparison)':<52} {floor:8.1f}\n"
        "  User is a pydantic model, so the first step pays pydantic's import and first\n"
        "  model at the latest; both goals together leave 100 ms over import pydantic."
    )


def report(ms: dict[str, tuple[float, float]]) -> None:
    """Print the rows, the goals and the ratios to the vendor SDKs' imports."""
    print(f"  {'':<40} {'wall':>8} {'cpu':>8}")
    for name, (wall, cpu) in ms.items():
        if name not in (COLD_START, OWN_SHARE):
            print(f"  {name:<40} {wall:8.1f} {cpu:8.1f}")

    def both(name: str) -> tuple[float, float]:
        return ms[name]

    flagport, pydantic = both("import flagport"), both("import pydantic")
    goals = [
        (
            "import flagport - import pydantic",
            tuple(f - p for f, p in zip(flagport, pydantic, strict=True)),
            50.0,
        ),
        ("first evaluation after import", both("first evaluation (after import)"), 50.0),
        ("flagport --help", both("flagport --help (whole command)"), 300.0),
    ]
    print("goals (wall / cpu ms)")
    for name, (wall, cpu), goal in goals:
        verdict = "met" if wall <= goal else ("met in CPU time" if cpu <= goal else "NOT met")
        print(f"  {name:<40} {wall:8.1f} {cpu:8.1f}  (goal <= {goal:.0f} ms: {verdict})")
    # ``import flagport`` defers its public names to their first use, so the two rows
    # above trade cost between them: what a cold start pays is both, timed in one
    # process, and the part of it over a single pydantic model is flagport's own.
    cold, own = both(COLD_START), both(OWN_SHARE)
    print(f"  {'import + first evaluation':<40} {cold[0]:8.1f} {cold[1]:8.1f}  (a cold start)")
    print(
        f"  {OWN_SHARE:<40} {own[0]:8.1f} {own[1]:8.1f}  (flagport's own share, "
        "median of the turns' differences)"
    )
    print("ratios (cpu)")
    for vendor in ("pydantic", "statsig_python_core", "growthbook"):
        ratio = flagport[1] / ms[f"import {vendor}"][1]
        print(f"  import flagport / import {vendor:<19} {ratio:6.2f}x")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=11, help="fresh processes per row")
    parser.add_argument(
        "--no-bytecode", action="store_true", help="children compile every import from source"
    )
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="flagport-pycache-") as cache:
        env = child_environment(not args.no_bytecode, cache)
        ms = run(args.runs, env)
        steps = breakdown(args.runs, env)
    cached = "without bytecode cache" if args.no_bytecode else "with bytecode cache"
    print(f"median of {args.runs} fresh processes ({cached}), ms")
    report(ms)
    report_breakdown(steps, ms)


if __name__ == "__main__":
    main()
