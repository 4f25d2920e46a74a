"""Patterns that blow up RE2's DFA are refused at load; ordinary patterns are not.

The rule is a count (:func:`dfa_risk`), the same on every machine: nothing here times
anything. How fast accepted patterns run is printed by ``benchmarks/bench_hostile.py``.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import re2  # type: ignore[import-untyped]
from hypothesis import example, given, settings
from hypothesis import strategies as st

from flagport import ConfigurationError
from flagport.providers.local.loader import load_file
from flagport.providers.local.regex import MAX_DFA_RISK, RegexError, compile_search
from flagport.providers.local.regex_cost import dfa_risk

ORDINARY = [
    r"^[a-z0-9._-]{1,64}@example\.com$",
    r"@example\.com$",
    r"[\w.+-]+@[\w-]+\.[\w.]+",
    "^beta-",
    r"^\d+\.\d+\.\d+$",
    r"^v?\d+(\.\d+){0,2}(-[a-z0-9.]+)?$",
    ".{20}",
    r"(\d{1,3}\.){3}\d{1,3}",
    r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}",
    "[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}",
    "sk-[A-Za-z0-9]{48}",
    r"\b[A-Z]{2}\d{6,10}\b",
    "https?://[^/]+/path/[a-z]{1,30}",
    "(?i)^[a-z]+-[a-z0-9]{3,40}$",
    "[[:alpha:]]{30}",
    "Chrome/(\\d+)\\.",
    "^(foo|bar|baz)$",
    r".*\.example\.com$",
    # Anchored at the end only: RE2 reads it backwards from the end, one attempt.
    "a[ab]{990}c$",
]


@pytest.mark.parametrize("pattern", ORDINARY)
def test_ordinary_patterns_are_accepted(pattern: str) -> None:
    compile_search(pattern)
    compile_search(pattern, insensitive=True)


@pytest.mark.parametrize(
    ("pattern", "risk"),
    [
        # A class repeated right after something that can match it, unanchored.
        ("a[ab]{990}c", 990),
        ("a[ab]{20}c", 20),
        ("[ab]*a[ab]{20}", 20),
        (".*a.{20}", 20),
        # Anchored, but after a part of varying length.
        ("^.*@.{3,100}$", 100),
        # Found by RE2 backwards, from the end of a match.
        ("[ab]{20}a[ab]*", 20),
        # Attempts kept in the order of their start: b? shifts some by one character.
        ("b?.{35}c", 35),
        # Copies of a group entered while others are inside, single characters too.
        ("(?:a[ab]{4}){5}c", 25),
        ("^(?:a{14}|(?:a?b+a?a+){5,22}[ab]{2}c)+$", 105),
        # Multi-line ^ lets an attempt in after every newline.
        ("(?m)^[^x]{100}y", 100),
        # Safe: what comes before ends in a character the class cannot match.
        ("@[a-z]{100}y", 0),
        ("user-\\d{1,20}", 0),
        # Safe: a star loop is one position, however many attempts are in it.
        ("a[ab]*c", 0),
        # At the limit.
        ("a[ab]{8}c", 8),
    ],
)
def test_risky_positions_are_counted(pattern: str, risk: int) -> None:
    assert dfa_risk(pattern) == risk


def test_case_insensitive_classes_are_folded() -> None:
    # [B] matches b when case is ignored, so the entry after b is no longer safe.
    assert dfa_risk("b[B]{20}") == 0
    assert dfa_risk("b[B]{20}", insensitive=True) == 20


def test_the_largest_risk_is_accepted_and_one_more_is_refused() -> None:
    compile_search(f"a[ab]{{{MAX_DFA_RISK}}}c")
    with pytest.raises(RegexError, match=f"more than the {MAX_DFA_RISK} flagport runs"):
        compile_search(f"a[ab]{{{MAX_DFA_RISK + 1}}}c")


def test_a_risky_pattern_is_located_with_a_fix(tmp_path: Path) -> None:
    path = tmp_path / "flags.yaml"
    path.write_text("gates:\n  g:\n    rules:\n      - when: {ua: {$regex: '.*a.{20}'}}\n")
    with pytest.raises(ConfigurationError) as info:
        load_file(path)
    [(location, message)] = info.value.problems
    assert (location.line, location.path) == (4, "gates.g.rules[0].when.ua.$regex")
    assert "20 of the characters it matches" in message
    assert "anchor the pattern with ^ (or $)" in message


def test_groups_nested_too_deep_to_follow_are_refused() -> None:
    with pytest.raises(RegexError, match="nests more than"):
        compile_search("(?:" * 250 + "a*" + ")*" * 250)


_GROUPS = ["(?:", "(?i)", "(?m)", "(?s)", "(?P<n>", "(?i:"]
_OTHERS = ["[:alpha:]", "{2,3}", "{2}", "{2,}", "\\x{41}", "\\x41", "\\p{Greek}", "é"]
_PIECES = st.sampled_from([*"ab.()[]^$*+?{}|\\-:,0123dwsDWSpLPbBAzQExC", *_GROUPS, *_OTHERS])
_OPTIONS = re2.Options()
_OPTIONS.log_errors = False


@settings(max_examples=2000, deadline=None)
@given(st.lists(_PIECES, min_size=1, max_size=14).map("".join))
@example("[[:]")  # "[:" with no ":]" after it is a literal "["
@example("[[:]a:]")
def test_every_pattern_re2_accepts_gets_a_count(pattern: str) -> None:
    try:
        re2.compile(pattern, _OPTIONS)
    except re2.error:
        return
    for insensitive in (False, True):
        risk = dfa_risk(pattern, insensitive=insensitive)
        assert risk is None or risk >= 0
