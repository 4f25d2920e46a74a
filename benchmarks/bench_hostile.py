"""Hostile input to the local evaluator: how long the worst of it takes, and how much memory.

Prints, for the figures the hardening issue asks for:

* every pattern of a pathological set (each takes seconds to years with a
  backtracking engine, or blows up RE2's DFA) and a few ordinary ones against
  attributes of 1,000 to 100,000 characters, each evaluation by a freshly compiled
  pattern on a fresh text: which are refused at load, the time of one evaluation and
  the time per 1,000 characters, the worst of them, and the first pattern under
  Python's ``re`` at a length it can still finish, for scale. Target: well under 1 ms
  per 1,000 characters;
* the 707-byte YAML alias bomb (ten million conditions once expanded): the time to
  load it (it is refused) and the peak memory traced while doing so;
* a 250 KB file of 3,000 gates aliasing one 8,001-part condition, valid or each
  failing validation: both stopped by the file's alias budget;
* every other hostile file (deep nesting, a self-referencing alias, thousands of
  digits, thousands of problems): the time to load it (each is refused).

Run: ``uv run python benchmarks/bench_hostile.py``.
"""

from __future__ import annotations

import random
import re
import sys
import tempfile
import time
import tracemalloc
from collections.abc import Callable
from pathlib import Path
from typing import Any

from flagport import ConfigurationError
from flagport.providers.local.conditions import ConditionError, compile_condition
from flagport.providers.local.loader import load_file

sys.path.insert(0, str(Path(__file__).parents[1] / "tests" / "support"))
from hostile_flags import alias_bomb

LENGTHS = (1_000, 10_000, 100_000)
RUNS = 3


def random_text(chars: str, length: int, seed: int) -> str:
    rng = random.Random(seed)
    return "".join(rng.choice(chars) for _ in range(length))


# Each run compiles the pattern afresh (an empty DFA cache) and, for the random texts,
# draws a new text: an attacker sends a new attribute each time, so states RE2 cached
# for the last one would flatter the figure.
Make = Callable[[int, int], str]
PATTERNS: list[tuple[str, Make]] = [
    ("(a+)+$", lambda n, _: "a" * n + "!"),
    ("^(a|a?)+$", lambda n, _: "a" * n + "!"),
    (r"(\w+\s?)+$", lambda n, _: "ab " * (n // 3) + "!"),
    ("(a|aa)+$", lambda n, _: "a" * n + "!"),
    ("(a*)*b", lambda n, _: "a" * n),
    ("(.*a){20}", lambda n, _: "a" * n),
    ("(.*){1,100}[bc]", lambda n, _: "a" * n),
    ("^(([a-z])+.)+[A-Z]([a-z])+$", lambda n, _: "a" * n + "!"),
    ("(a+)+$", lambda n, _: "a" * n),
    # Large counted repetitions: refused when they compile to more than
    # MAX_PROGRAM_SIZE instructions, or when they can blow up RE2's DFA.
    ("(x|y|z|a|b|.){1000}q", lambda n, _: "a" * n),
    ("[^x]{500}[^y]{500}z", lambda n, _: "a" * n),
    ("(x|y|z|a|b|.){120}q", lambda n, s: random_text("ab", n, s)),
    ("[^x]{60}[^y]{60}z", lambda n, s: random_text("abxy", n, s)),
    ("(.*a){100}", lambda n, s: random_text("ab", n, s)),
    ("[a-z]{990}", lambda n, _: ("a" * 989 + "!") * (n // 990 + 1)),
    ("[ab]{900}c", lambda n, s: random_text("ab", n, s)),
    # DFA blow-ups on random a/b text: a new state at almost every character, until
    # RE2's cache overflows and it simulates the program instead. Refused past
    # MAX_DFA_RISK risky positions; the largest accepted ones are timed.
    ("[ab]*a[ab]{20}", lambda n, s: random_text("ab", n, s)),
    (".*a.{20}", lambda n, s: random_text("ab", n, s)),
    ("a[ab]{20}c", lambda n, s: random_text("ab", n, s)),
    ("a[ab]{100}c", lambda n, s: random_text("ab", n, s)),
    ("a[ab]{990}c", lambda n, s: random_text("ab", n, s)),
    # Blow-ups from the order RE2 keeps attempts in (leftmost matching): b? shifts
    # some attempts by one character.
    ("b?.{35}c", lambda n, s: random_text("ab", n, s)),
    ("a?[ab]{30}a{21}", lambda n, s: random_text("ab", n, s)),
    ("^(?:a{14}|(?:a?b+a?a+){5,22}[ab]{2}c)+$", lambda n, s: random_text("ab", n, s)),
    ("(?:[abc]{33}a)*[ab]c", lambda n, s: random_text("ab", n, s)),
    # At the limit: accepted, and timed on the texts that are worst for them.
    ("a[ab]{8}c", lambda n, s: random_text("ab", n, s)),
    (".*a.{8}c", lambda n, s: random_text("ab", n, s)),
    ("[ab]*a[ab]{8}c", lambda n, s: random_text("ab", n, s)),
    ("a[ab]{990}c$", lambda n, s: random_text("ab", n, s)),
    # Ordinary patterns.
    (r"^[a-z0-9._-]{1,64}@example\.com$", lambda n, s: random_text("ab.@", n, s)),
    (r"[\w.+-]+@[\w-]+\.[\w.]+", lambda n, s: random_text("a@.+-", n, s)),
    (r"(\d{1,3}\.){3}\d{1,3}", lambda n, s: random_text("12.", n, s)),
    (r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}", lambda n, s: random_text("12-T:", n, s)),
    (".{20}", lambda n, s: random_text("ab", n, s)),
]
# Python's re on the first pattern at this length already takes a noticeable time.
RE_LENGTH = 22


def best_of(fn: Callable[[], Any], runs: int = 5) -> float:
    """Seconds of the fastest of ``runs`` calls (the least disturbed by other load)."""
    best = float("inf")
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - start)
    return best


def cold(pattern: str, make: Make, length: int) -> tuple[float, int]:
    """Seconds of the fastest of RUNS evaluations, each by a fresh compile on a fresh text."""
    best, size = float("inf"), 0
    for run in range(RUNS):
        test = compile_condition({"name": {"$regex": pattern}})
        attributes = {"name": make(length, run)}
        size = len(attributes["name"])
        start = time.perf_counter()
        test(attributes)
        best = min(best, time.perf_counter() - start)
    return best, size


def regex_figures() -> None:
    print("regular expressions, one evaluation of {name: {$regex: pattern}}, cold")
    print(f"  {'pattern':40s} {'chars':>8s} {'ms':>9s} {'ms/1k chars':>12s}")
    worst = (0.0, "", 0)
    for pattern, make in PATTERNS:
        try:
            compile_condition({"name": {"$regex": pattern}})
        except ConditionError as exc:
            size = re.search(r"compiles to ([\d,]+)", str(exc))
            risk = re.search(r"([\d,]+) of the characters", str(exc))
            why = (
                f"{size.group(1)} instructions"
                if size
                else f"{risk.group(1) if risk else '?'} risky"
            )
            print(f"  {pattern:40s} refused at load ({why})")
            continue
        for length in LENGTHS:
            seconds, chars = cold(pattern, make, length)
            per_k = seconds * 1000 / (chars / 1000)
            worst = max(worst, (per_k, pattern, length))
            print(f"  {pattern:40s} {length:>8,d} {seconds * 1000:>9.3f} {per_k:>12.4f}")
    per_k, pattern, length = worst
    print(f"  worst: {per_k:.4f} ms per 1,000 chars ({pattern} at {length:,} chars)")
    backtracking = re.compile(PATTERNS[0][0])
    text = PATTERNS[0][1](RE_LENGTH, 0)
    slow = best_of(lambda: backtracking.search(text), runs=1)
    fast_test = compile_condition({"name": {"$regex": PATTERNS[0][0]}})
    fast = best_of(lambda: fast_test({"name": PATTERNS[0][1](100_000, 0)}))
    print(
        f"  for scale: Python re, {PATTERNS[0][0]} at {RE_LENGTH} chars: {slow * 1000:.1f} ms "
        f"(doubles with each char); RE2 at 100,000 chars: {fast * 1000:.3f} ms "
        f"(ratio re/RE2 {slow / fast:,.0f}x)"
    )


def hostile_files() -> dict[str, str]:
    deep_and = '{"$and": [' * 600 + '{"country": "US"}' + "]}" * 600
    deep_not = '{"$not": ' * 300 + '{"country": "US"}' + "}" * 300
    regex_errors = "".join(
        f'  g{i}:\n    rules:\n      - when: {{name: {{$regex: "(a)\\\\1"}}}}\n'
        for i in range(3_000)
    )
    toml_errors = "".join(
        f'[gates.g{i}]\nrules = [{{when = {{name = {{"$regex" = "(a)\\\\1"}}}}}}]\n'
        for i in range(3_000)
    )
    big = ", ".join(f"{{plan: p{i}}}" for i in range(4_000))

    def aliased(percentage: int) -> str:
        # 3,000 gates aliasing one 8,001-part condition: 24 million values expanded.
        gates = "".join(
            f"  g{i}:\n    rules:\n      - when: *big\n        pass_percentage: {percentage}\n"
            for i in range(3_000)
        )
        return f"gates:\n  g:\n    rules:\n      - when: &big {{$or: [{big}]}}\n{gates}"

    return {
        "alias bomb, 7 levels x 10 (bomb.yaml)": alias_bomb(),
        "3,000 aliases of an 8,001-part when (budget.yaml)": aliased(50),
        "... each failing validation (budget_invalid.yaml)": aliased(200),
        "alias bomb + a repeated key (bomb_repeat.yaml)": alias_bomb().replace(
            "{country: US}", "{country: US, country: UK}"
        ),
        "self-referencing alias (self.yaml)": (
            "gates:\n  g:\n    rules:\n      - when: &x {$or: [*x]}\n"
        ),
        "$and nested 600 deep (deep_and.json)": (
            '{"gates": {"g": {"rules": [{"when": ' + deep_and + "}]}}}"
        ),
        "$not nested 300 deep (deep_not.json)": (
            '{"gates": {"g": {"rules": [{"when": ' + deep_not + "}]}}}"
        ),
        "TOML nested 1,000 deep (deep.toml)": (
            "[gates.g]\nrules = [{when = " + "{a = " * 1000 + "1" + "}" * 1000 + "}]\n"
        ),
        "1,000 nested regex groups (groups.yaml)": (
            "gates:\n  g:\n    rules:\n      - when: {name: {$regex: '"
            + "(" * 1000
            + "a"
            + ")" * 1000
            + "'}}\n"
        ),
        "5,000-digit integer (digits.json)": (
            '{"gates": {"g": {"rules": [{"when": {"n": ' + "9" * 5000 + "}}]}}}"
        ),
        "$regex a{4294967296} (repeat.yaml)": (
            "gates:\n  g:\n    rules:\n      - when: {n: {$regex: 'a{4294967296}'}}\n"
        ),
        "3,000 refused patterns (errors.yaml)": "gates:\n" + regex_errors,
        "3,000 refused patterns (errors.toml)": toml_errors,
    }


def load(path: Path) -> str:
    try:
        load_file(path)
    except ConfigurationError as exc:
        return f"refused, {len(exc.problems):,} problem(s)"
    return "loaded"


def file_figures() -> None:
    print("hostile flags files, load_file (what validate and a reload run)")
    print(f"  {'file':50s} {'bytes':>8s} {'ms':>9s} {'peak MiB':>9s}  outcome")
    with tempfile.TemporaryDirectory() as folder:
        for label, text in hostile_files().items():
            path = Path(folder) / label.rsplit("(", 1)[1].rstrip(")")
            path.write_text(text, encoding="utf-8")
            start = time.perf_counter()
            outcome = load(path)
            seconds = time.perf_counter() - start
            # Memory in a second run: tracing slows Python down several times.
            tracemalloc.start()
            load(path)
            peak = tracemalloc.get_traced_memory()[1] / 2**20
            tracemalloc.stop()
            print(f"  {label:50s} {len(text):>8,d} {seconds * 1000:>9.1f} {peak:>9.2f}  {outcome}")


def main() -> None:
    regex_figures()
    print()
    file_figures()


if __name__ == "__main__":
    main()
