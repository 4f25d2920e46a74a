"""Hostile flags files and patterns: bounded in time and memory, refused with their place.

Nothing here times anything. A pattern that backtracks is checked by its answer in a
subprocess with a generous timeout (a backtracking engine holds the GIL, so no
in-process guard could stop it); a YAML alias bomb by how few values the audit walks.
"""

from __future__ import annotations

import json
import random
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from hostile_flags import alias_bomb
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from flagport import ConfigurationError, User
from flagport.cli import cli
from flagport.providers.local.conditions import ConditionError, compile_condition, explain_condition
from flagport.providers.local.limits import MAX_CONDITION_SIZE, MAX_DEPTH, Audit
from flagport.providers.local.loader import load_file, load_mapping
from flagport.providers.local.parsing import parse_file
from flagport.providers.local.regex import MAX_PROGRAM_SIZE, RegexError, compile_search


def load_text(tmp_path: Path, name: str, text: str) -> ConfigurationError:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ConfigurationError) as info:
        load_file(path)
    return info.value


def only_problem(error: ConfigurationError) -> tuple[Any, str]:
    assert len(error.problems) == 1, error.problems
    return error.problems[0]


# -- regular expressions ---------------------------------------------------------------

_RANDOM = random.Random(12)
RANDOM_AB = "".join(_RANDOM.choice("ab") for _ in range(100_000))
PATHOLOGICAL = [
    # (pattern, text, whether it matches): each takes seconds to years with `re`.
    ("(a+)+$", "a" * 100_000 + "!", False),
    ("^(a|a?)+$", "a" * 100_000 + "!", False),
    (r"(\w+\s?)+$", "ab " * 33_000 + "!", False),
    ("(a|aa)+$", "a" * 100_000 + "!", False),
    ("(a+)+$", "a" * 100_000, True),
    # The largest DFA blow-ups accepted (MAX_DFA_RISK risky positions): still right.
    ("[ab]*a[ab]{8}", RANDOM_AB, True),
    ("a[ab]{8}c", RANDOM_AB, False),
    (".*a.{8}", RANDOM_AB, True),
    ("[a-z]{990}", ("a" * 989 + "!") * 100, False),
    ("a[ab]{990}c$", RANDOM_AB, False),
]


def test_pathological_patterns_answer_right_in_linear_time() -> None:
    # In a subprocess: with a backtracking engine the first case would never return,
    # holding the GIL, so only a separate process can be stopped.
    script = textwrap.dedent(
        """
        import json, sys
        from flagport.providers.local.conditions import compile_condition
        cases = json.loads(sys.stdin.read())
        answers = []
        for pattern, text, _ in cases:
            for op in ("$regex", "$notRegex"):
                test = compile_condition({"name": {op: pattern}})
                answers.append(test({"name": text}))
        print(json.dumps(answers))
        """
    )
    done = subprocess.run(
        [sys.executable, "-c", script],
        input=json.dumps(PATHOLOGICAL),
        capture_output=True,
        text=True,
        timeout=90,
        check=True,
    )
    expected = [answer for *_, match in PATHOLOGICAL for answer in (match, not match)]
    assert json.loads(done.stdout) == expected


@pytest.mark.parametrize(
    ("pattern", "reason"),
    [
        (r"(a)\1", "backreferences"),
        ("(?=a)b", "look-around"),
        ("(?<=a)b", "look-around"),
        ("a++", "possessive"),
        ("a{4294967296}", "over 1000"),
        ("a{2,4294967296}", "over 1000"),
        ("a{1001}", "over 1000"),
        ("a{,3}", "write {0,3}"),
        ("(", "missing )"),
        # Accepted by RE2, but too large a program to run fast (8.5 s on 100,000 chars).
        ("(x|y|z|a|b|.){1000}q", "compiles to 8,005 RE2 instructions"),
        ("[^x]{500}[^y]{500}z", "more than the 1,000"),
        (".{200}", "compiles to 1,604"),
        ("(?i)[a-z]{300}", "more than the 1,000"),
        # Accepted by RE2, but a DFA blow-up (1 to 27 ms per 1,000 characters).
        ("a[ab]{990}c", "990 of the characters it matches come from a class repeated"),
        ("[ab]*a[ab]{20}", "20 of the characters"),
        (".*a.{20}", "anchor the pattern"),
        ("b?.{35}c", "35 of the characters"),
        ("(.*a){20}", "40 of the characters"),
    ],
)
def test_patterns_re2_cannot_run_are_refused_with_the_reason(pattern: str, reason: str) -> None:
    with pytest.raises(RegexError, match=None) as info:
        compile_search(pattern)
    assert reason in str(info.value)


def test_the_largest_program_is_accepted_and_one_more_is_refused() -> None:
    assert compile_search("a" * 995 + "b")("x" + "a" * 995 + "b")  # 1,000 instructions
    with pytest.raises(RegexError, match="1,001 RE2 instructions"):
        compile_search("a" * 996 + "b")


def test_a_too_large_pattern_is_located_with_its_size_and_the_limit(tmp_path: Path) -> None:
    text = (
        "version: 1\ngates:\n  g:\n    rules:\n"
        "      - when: {name: {$regex: '(x|y|z|a|b|.){1000}q'}}\n"
    )
    location, message = only_problem(load_text(tmp_path, "flags.yaml", text))
    assert (location.line, location.path) == (5, "gates.g.rules[0].when.name.$regex")
    assert "'(x|y|z|a|b|.){1000}q'" in message
    assert "8,005 RE2 instructions" in message
    assert f"{MAX_PROGRAM_SIZE:,}" in message


def test_braces_re2_reads_as_text_are_kept_where_they_are_text() -> None:
    # Inside a class, escaped, or with nothing to repeat, a brace is plain text
    # everywhere, so these are accepted.
    assert compile_search("[{,3}]")("{")
    assert compile_search(r"a\{,3}")("a{,3}")
    assert compile_search("{,3}")("{,3}")
    assert compile_search(r"[\]{,3}]+x")("]x")


def test_a_refused_pattern_is_located_in_the_file(tmp_path: Path) -> None:
    text = "gates:\n  g:\n    rules:\n      - when: {name: {$regexi: '(a)\\1'}}\n"
    location, message = only_problem(load_text(tmp_path, "flags.yaml", text))
    assert (location.line, location.path) == (4, "gates.g.rules[0].when.name.$regexi")
    assert "invalid regular expression" in message
    assert "backreferences" in message


def test_re2_keeps_search_semantics_and_flags() -> None:
    assert compile_search("b")("abc")  # unanchored, like re.search
    assert not compile_search("^b")("abc")
    assert compile_search("ÉCOLE", insensitive=True)("une école")
    assert not compile_search("ÉCOLE")("une école")
    assert compile_search(r"\d+")("v12")
    # RE2's \w is ASCII, as in JavaScript (documented in docs/flags-file.md).
    assert not compile_search(r"^\w$")("é")


def test_thousand_nested_groups_compile_and_match() -> None:
    # With `re` this raised RecursionError out of validate.
    pattern = "(" * 1000 + "a" + ")" * 1000
    test = compile_condition({"name": {"$regex": pattern}})
    assert test({"name": "xa"})
    assert not test({"name": "b"})


def test_a_lone_surrogate_attribute_does_not_raise() -> None:
    test = compile_condition({"name": {"$regex": "a"}})
    assert test({"name": "a\ud800"})
    assert not test({"name": "\ud800"})


# -- YAML aliases ----------------------------------------------------------------------


def test_the_alias_bomb_is_refused_after_a_bounded_walk(tmp_path: Path) -> None:
    text = alias_bomb()
    assert len(text) < 800
    path = tmp_path / "bomb.yaml"
    path.write_text(text)
    data = parse_file(path).data
    # The audit visits each distinct value once: a handful, not the ten million the
    # aliases describe.
    audit = Audit()
    problems = audit.check(data["gates"]["bomb"]["rules"][7]["when"], "when")
    assert len(audit.sizes) < 20
    assert problems
    assert "YAML aliases" in problems[0][1]
    with pytest.raises(ConfigurationError) as info:
        load_file(path)
    where = {(loc.path, loc.line) for loc, _ in info.value.problems}
    assert ("gates.bomb.rules[7].when", 11) in where
    assert all(loc.line is not None for loc, _ in info.value.problems)


def test_aliases_below_the_limits_are_served(tmp_path: Path) -> None:
    # Reusing an anchored condition and value (what aliases are for) keeps working.
    gates = "".join(f"  g{i}:\n    rules:\n      - when: *us\n" for i in range(50))
    text = (
        "configs:\n  base:\n    default: &value {color: blue, sizes: [1, 2, 3]}\n"
        "  copy:\n    default: *value\n"
        "gates:\n  first:\n    rules:\n      - when: &us {country: US}\n" + gates
    )
    path = tmp_path / "flags.yaml"
    path.write_text(text)
    snapshot = load_file(path)
    assert len(snapshot.gates) == 51
    us, de = User(user_id="1", country="US"), User(user_id="2", country="DE")
    rule = snapshot.gates["g49"].rules[0]
    assert rule.when is not None
    assert rule.when(us.attributes, us)
    assert not rule.when(de.attributes, de)
    assert snapshot.configs["copy"].default.value["sizes"] == (1, 2, 3)


def test_a_condition_just_over_the_size_limit_is_refused() -> None:
    many = [{"plan": str(i)} for i in range(MAX_CONDITION_SIZE // 2)]
    with pytest.raises(ConditionError, match="parts"):
        compile_condition({"$or": many})
    assert compile_condition({"$or": many[: MAX_CONDITION_SIZE // 4]})({"plan": "3"})


def test_a_self_referencing_alias_is_located(tmp_path: Path) -> None:
    text = "gates:\n  g:\n    rules:\n      - when: &x {$or: [*x]}\n"
    location, message = only_problem(load_text(tmp_path, "flags.yaml", text))
    assert location.line == 4
    assert location.path.startswith("gates.g.rules[0].when")
    assert "contains itself" in message


def test_a_self_referencing_value_is_located(tmp_path: Path) -> None:
    text = "configs:\n  c:\n    default: &v {again: [*v]}\n"
    location, message = only_problem(load_text(tmp_path, "flags.yaml", text))
    # The list is where the cycle closes: default.again[0] is the anchored mapping.
    assert (location.line, location.path) == (3, "configs.c.default.again[0].again")
    assert "contains itself" in message


@pytest.mark.timeout(60)
def test_a_repeated_key_next_to_aliases_is_reported(tmp_path: Path) -> None:
    # Finding repeated keys walked every alias anew: this never finished.
    text = alias_bomb().replace("{country: US}", "{country: US, country: UK}")
    error = load_text(tmp_path, "flags.yaml", text)
    repeated = [loc for loc, message in error.problems if "appears twice" in message]
    assert [(loc.path, loc.line) for loc in repeated] == [("gates.bomb.rules[0].when.country", 4)]
    cyclic = "gates:\n  g:\n    rules:\n      - when: &x {a: 1, a: 2, $or: [*x]}\n"
    error = load_text(tmp_path, "cyclic.yaml", cyclic)
    assert {message.split(" ")[0] for _, message in error.problems} >= {"'a'", "this"}


def test_cycles_in_inline_flags_and_direct_conditions_are_refused() -> None:
    cond: dict[str, Any] = {"country": "US"}
    cond["$or"] = [cond]
    with pytest.raises(ConditionError, match="contains itself"):
        compile_condition(cond)
    with pytest.raises(ConditionError, match="contains itself"):
        explain_condition(cond, {})
    with pytest.raises(ConfigurationError) as info:
        load_mapping({"gates": {"g": {"rules": [{"when": cond}]}}})
    assert "contains itself" in only_problem(info.value)[1]


# -- nesting -----------------------------------------------------------------------------


def nested(op: str, depth: int) -> dict[str, Any]:
    cond: dict[str, Any] = {"country": "US"}
    for _ in range(depth):
        cond = {op: cond} if op == "$not" else {op: [cond]}
    return cond


def nested_json(op: str, depth: int) -> str:
    # Written out: json.dumps itself recurses too deep for these.
    opening, closing = (f'{{"{op}": ', "}") if op == "$not" else (f'{{"{op}": [', "]}")
    cond = opening * depth + '{"country": "US"}' + closing * depth
    return '{"gates": {"g": {"rules": [{"when": ' + cond + "}]}}}"


@pytest.mark.parametrize("op", ["$not", "$and"])
def test_conditions_nested_beyond_the_limit_are_located(tmp_path: Path, op: str) -> None:
    error = load_text(tmp_path, "flags.json", nested_json(op, 500))
    location, message = only_problem(error)
    assert location.line == 1
    assert "nested" in message


def test_nesting_just_over_the_limit_names_the_condition(tmp_path: Path) -> None:
    data = {"gates": {"g": {"rules": [{"when": nested("$not", MAX_DEPTH + 1)}]}}}
    location, message = only_problem(load_text(tmp_path, "flags.json", json.dumps(data)))
    assert location.path == "gates.g.rules[0].when"
    assert f"nested more than {MAX_DEPTH}" in message


def test_nesting_within_the_limit_evaluates() -> None:
    for cond in (nested("$not", 30), nested("$and", 20)):
        test = compile_condition(cond)
        assert test({"country": "US"})
        assert not test({"country": "DE"})


def test_toml_nested_a_thousand_deep_is_located(tmp_path: Path) -> None:
    text = "[gates.g]\nrules = [{when = " + "{a = " * 1000 + "1" + "}" * 1000 + "}]\n"
    location, message = only_problem(load_text(tmp_path, "flags.toml", text))
    assert location.line == 2
    assert "nested too deep" in message


# -- numbers and operands ---------------------------------------------------------------

DIGITS = "9" * 5000


@pytest.mark.parametrize(
    ("name", "text", "line"),
    [
        ("flags.yaml", f"gates:\n  g:\n    rules:\n      - when: {{n: {DIGITS}}}\n", 4),
        ("flags.json", f'{{"gates": {{"g": {{"rules": [\n{{"when": {{"n": {DIGITS}}}}}]}}}}}}', 2),
        ("flags.toml", f"[configs.c]\ndefault = {{n = {DIGITS}}}\n", 2),
    ],
)
def test_an_integer_of_thousands_of_digits_is_located(
    tmp_path: Path, name: str, text: str, line: int
) -> None:
    location, message = only_problem(load_text(tmp_path, name, text))
    assert location.line == line
    assert "5,000 digits" in message


def test_type_with_a_list_is_a_condition_error() -> None:
    with pytest.raises(ConditionError) as info:
        compile_condition({"n": {"$type": ["x"]}})
    assert info.value.path == "n.$type"


@pytest.mark.parametrize(
    ("name", "text", "path"),
    [
        ("flags.yaml", "configs:\n  c:\n    default: {x: .inf}\n", "configs.c.default.x"),
        ("flags.yaml", "configs:\n  c:\n    default: {x: [1, .nan]}\n", "configs.c.default.x[1]"),
        ("flags.json", '{"configs": {"c": {"default": {"x": NaN}}}}', "configs.c.default.x"),
        ("flags.json", '{"configs": {"c": {"default": {"x": 1e999}}}}', "configs.c.default.x"),
        ("flags.toml", "[configs.c.default]\nx = -inf\n", "configs.c.default.x"),
        (
            "flags.yaml",
            "gates:\n  g:\n    rules:\n      - when: {n: {$gt: .inf}}\n",
            "gates.g.rules[0].when.n.$gt",
        ),
        (
            "flags.yaml",
            "experiments:\n  e:\n    groups:\n      - {name: a, weight: 100, value: {p: .nan}}\n",
            "experiments.e.groups[0].value.p",
        ),
        ("flags.yaml", "segments:\n  s: [1, .inf]\n", "segments.s[1]"),
    ],
)
def test_non_finite_numbers_are_refused_where_they_are(
    tmp_path: Path, name: str, text: str, path: str
) -> None:
    location, message = only_problem(load_text(tmp_path, name, text))
    assert location.path == path
    assert "not a finite number" in message


def test_a_non_finite_percentage_is_refused(tmp_path: Path) -> None:
    text = "gates:\n  g:\n    rules:\n      - pass_percentage: .nan\n"
    location, message = only_problem(load_text(tmp_path, "flags.yaml", text))
    assert location.path == "gates.g.rules[0].pass_percentage"
    assert "finite" in message


# -- the CLI sees problems, never tracebacks ----------------------------------------------

HOSTILE_FILES = {
    "bomb.yaml": alias_bomb(),
    "self.yaml": "gates:\n  g:\n    rules:\n      - when: &x {$or: [*x]}\n",
    "deep.json": nested_json("$and", 600),
    "deep.toml": "[gates.g]\nrules = [{when = " + "{a = " * 1000 + "1" + "}" * 1000 + "}]\n",
    "digits.yaml": f"gates:\n  g:\n    rules:\n      - when: {{n: {DIGITS}}}\n",
    "type.yaml": "gates:\n  g:\n    rules:\n      - when: {n: {$type: [x]}}\n",
    "repeat.yaml": "gates:\n  g:\n    rules:\n      - when: {n: {$regex: 'a{4294967296}'}}\n",
    "inf.yaml": "configs:\n  c:\n    default: {x: .inf}\n",
}


@pytest.mark.parametrize("name", sorted(HOSTILE_FILES))
def test_validate_reports_each_hostile_file_as_a_problem(tmp_path: Path, name: str) -> None:
    path = tmp_path / name
    path.write_text(HOSTILE_FILES[name])
    result = CliRunner().invoke(cli, ["validate", str(path)])
    assert result.exit_code == 1, result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)
    assert "Traceback" not in result.output
    assert str(path) in result.output


# -- never a crash: random structures ------------------------------------------------------

_KEYS = st.one_of(
    st.sampled_from(["$or", "$and", "$nor", "$not", "$in", "$regex", "$type", "$size"]),
    st.sampled_from(["$elemMatch", "$all", "$exists", "$vgt", "$gt", "$inGroup", "$eq"]),
    st.sampled_from(["country", "a.b", "0", "rules", "when", "value", "groups", "default"]),
    st.text(max_size=4),
)
_SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(),
    st.text(max_size=6),
    st.sampled_from(["(a+)+$", "(", r"(a)\1", "a{,3}", "1.2.3", "string", "beta"]),
)
_VALUES = st.recursive(
    _SCALARS,
    lambda inner: st.one_of(st.lists(inner, max_size=4), st.dictionaries(_KEYS, inner, max_size=4)),
    max_leaves=25,
)
_RULES = st.lists(
    st.dictionaries(st.sampled_from(["id", "when", "pass_percentage", "value"]), _VALUES),
    max_size=3,
)
_FLAG = st.dictionaries(
    st.sampled_from(["rules", "when", "groups", "default", "enabled", "status", "winner"]),
    st.one_of(_VALUES, _RULES),
    max_size=4,
)
_FILES = st.dictionaries(
    st.sampled_from(["segments", "gates", "experiments", "configs", "hash", "version", "x"]),
    st.one_of(_VALUES, st.dictionaries(st.text(max_size=3), _FLAG, max_size=3)),
    max_size=4,
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_FILES)
def test_random_files_compile_or_give_configuration_errors(data: dict[str, Any]) -> None:
    try:
        snapshot = load_mapping(data)
    except ConfigurationError as exc:
        problems = exc.problems
    else:
        problems = []
        assert snapshot.ready
    assert all(message for _, message in problems)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.dictionaries(_KEYS, _VALUES, max_size=4), st.dictionaries(_KEYS, _VALUES))
def test_random_conditions_compile_or_give_condition_errors(
    cond: dict[str, Any], attributes: dict[str, Any]
) -> None:
    try:
        test = compile_condition(cond, {"beta": ["1"]})
    except ConditionError as exc:
        message = exc.message
    else:
        message = "compiled"
        assert test(attributes) in (True, False)
    assert message
