"""Reading flags files: the three formats, and every problem reported with its place."""

from __future__ import annotations

import json
import tracemalloc
from pathlib import Path

import pytest

from flagport import ConfigurationError, Reason, User
from flagport.errors import Location
from flagport.providers.local.loader import load_file, load_mapping
from flagport.providers.local.parsing import parse_file

YAML = """\
segments:
  beta: ["12", "99"]
gates:
  new_checkout:
    rules:
      - id: us
        when: {country: US}
      - id: beta
        when: {user_id: {$inGroup: beta}}
      - id: rollout
        pass_percentage: 50
experiments:
  button_color:
    groups:
      - {name: control, weight: 50, value: {color: gray}}
      - {name: blue, weight: 50, value: {color: blue}}
configs:
  pricing:
    default: {discount: 0}
    rules:
      - {id: pro, when: {plan: pro}, value: {discount: 0.1}}
"""

TOML = """\
[segments]
beta = ["12", "99"]

[gates.new_checkout]
rules = [
  { id = "us", when = { country = "US" } },
  { id = "beta", when = { user_id = { "$inGroup" = "beta" } } },
  { id = "rollout", pass_percentage = 50 },
]

[experiments.button_color]
groups = [
  { name = "control", weight = 50, value = { color = "gray" } },
  { name = "blue", weight = 50, value = { color = "blue" } },
]

[configs.pricing]
default = { discount = 0 }
rules = [{ id = "pro", when = { plan = "pro" }, value = { discount = 0.1 } }]
"""


def problems(exc: pytest.ExceptionInfo[ConfigurationError]) -> dict[str, Location]:
    return {loc.path: loc for loc, _ in exc.value.problems}


def messages(exc: pytest.ExceptionInfo[ConfigurationError]) -> dict[str, str]:
    return {loc.path: text for loc, text in exc.value.problems}


# -- the formats -------------------------------------------------------------------------------
@pytest.mark.parametrize("suffix", [".yaml", ".yml", ".json", ".toml"])
def test_every_format_loads_the_same_definitions(tmp_path: Path, suffix: str) -> None:
    import yaml

    path = tmp_path / f"flags{suffix}"
    if suffix == ".toml":
        path.write_text(TOML)
    elif suffix == ".json":
        path.write_text(json.dumps(yaml.safe_load(YAML), indent=2))
    else:
        path.write_text(YAML)
    snapshot = load_file(path)
    assert snapshot.source == str(path)
    assert set(snapshot.gates) == {"new_checkout"}
    beta = snapshot.gates["new_checkout"].evaluate(User(user_id="99", country="FR"))
    assert (beta.value, beta.rule_id, beta.reason) == (True, "beta", Reason.TARGETING_MATCH)
    pro = snapshot.configs["pricing"].evaluate(User(user_id="1", custom={"plan": "pro"}))
    assert pro.value == {"discount": 0.1}
    assert snapshot.definitions == load_file(path).definitions


def test_unknown_extension_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "flags.ini"
    path.write_text("x")
    with pytest.raises(ConfigurationError, match=r"name it \.yaml, \.yml, \.json or \.toml"):
        load_file(path)


def test_empty_file_is_an_error(tmp_path: Path) -> None:
    path = tmp_path / "flags.yaml"
    path.write_text("\n# nothing yet\n")
    with pytest.raises(ConfigurationError, match="empty"):
        load_file(path)


def test_a_file_over_the_size_limit_is_refused_unread(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("flagport._documents.MAX_DOCUMENT_BYTES", 1024)
    path = tmp_path / "flags.yaml"
    path.write_text("gates:\n" + "  g: {}\n" * 200)
    with pytest.raises(ConfigurationError, match="larger than"):
        load_file(path)


@pytest.mark.skipif(not Path("/dev/zero").exists(), reason="needs /dev/zero")
def test_a_path_pointing_at_an_endless_device_is_refused(tmp_path: Path) -> None:
    # Read whole, this grew to 9 GB in 30 s.
    path = tmp_path / "flags.yaml"
    path.symlink_to("/dev/zero")
    with pytest.raises(ConfigurationError, match="larger than 64 MiB"):
        load_file(path)


def test_reading_a_small_file_allocates_little(tmp_path: Path) -> None:
    # The size bound must not cost its own size: read(limit) allocates limit bytes up front.
    path = tmp_path / "flags.json"
    path.write_text('{"gates": {"g": {}}}')
    tracemalloc.start()
    try:
        parse_file(path)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 4 * 2**20


# -- syntax errors carry their line ----------------------------------------------------------------
@pytest.mark.parametrize(
    ("suffix", "text", "line"),
    [
        (".yaml", "gates:\n  a:\n    rules: [{id: a}}]\n  b: 1\n", 3),
        (".json", '{\n  "gates": {\n    "a": {,}\n  }\n}\n', 3),
        (".toml", "[gates.a]\nrules = [\n  { id = }\n]\n", 3),
    ],
)
def test_syntax_errors_name_the_line(tmp_path: Path, suffix: str, text: str, line: int) -> None:
    path = tmp_path / f"flags{suffix}"
    path.write_text(text)
    with pytest.raises(ConfigurationError, match="syntax error") as exc:
        load_file(path)
    (location, message), *_ = exc.value.problems
    assert location.source == str(path)
    assert location.line == line, message


# -- every problem at once, each located ------------------------------------------------
BAD_YAML = """\
segments:
  beta: ["12"]
gates:
  new_checkout:
    enabeld: true
    rules:
      - id: us
        when: {country: US}
      - id: us
        when: {country: {$inn: [CA]}}
      - id: rollout
        pass_percentage: 150
  search:
    rules:
      - when: {user_id: {$inGroup: gamma}}
experiments:
  search:
    groups:
      - {name: a, weight: 50}
      - {name: b, weight: 40}
  button_color:
    status: launched
    overrides: {"5": purple}
    groups:
      - {name: control, weight: 100}
configs:
  pricing:
    rules:
      - {id: pro, when: {plan: pro}}
colours: {}
"""


def test_all_problems_reported_with_path_and_line(tmp_path: Path) -> None:
    path = tmp_path / "flags.yaml"
    path.write_text(BAD_YAML)
    with pytest.raises(ConfigurationError) as exc:
        load_file(path)
    found = problems(exc)
    expected_lines = {
        "gates.new_checkout.enabeld": 5,
        "gates.new_checkout.rules[1].when.country.$inn": 10,
        "gates.new_checkout.rules[2].pass_percentage": 12,
        "gates.search.rules[0].when.user_id.$inGroup": 15,
        "experiments.search": 17,
        "experiments.search.groups": 18,
        "experiments.button_color.winner": 21,
        "experiments.button_color.overrides.5": 23,
        "configs.pricing.rules[0].value": 29,
        "colours": 30,
    }
    assert {p: found[p].line for p in expected_lines if p in found} == expected_lines
    assert all(loc.source == str(path) for loc in found.values())
    text = messages(exc)
    assert "did you mean 'enabled'" in text["gates.new_checkout.enabeld"]
    assert "gamma" in text["gates.search.rules[0].when.user_id.$inGroup"]
    assert "not 100" in text["experiments.search.groups"]
    assert "already defined in gates" in text["experiments.search"]
    assert "needs a winner" in text["experiments.button_color.winner"]
    assert "purple" in text["experiments.button_color.overrides.5"]
    assert "missing" in text["configs.pricing.rules[0].value"]
    assert "did you mean 'configs'" in text["colours"] or "allowed" in text["colours"]
    # the message of the error itself lists every problem with file:line
    assert f"{path}:12 at gates.new_checkout.rules[2].pass_percentage" in str(exc.value)


def test_duplicate_rule_ids_are_reported() -> None:
    flags = {"gates": {"g": {"rules": [{"id": "a"}, {"id": "a"}]}}}
    with pytest.raises(ConfigurationError) as exc:
        load_mapping(flags)
    assert "gates.g.rules[1].id" in problems(exc)


def test_yaml_booleans_in_string_fields_get_a_hint() -> None:
    with pytest.raises(ConfigurationError, match="put the value in quotes"):
        load_mapping({"gates": {"g": {"rules": [{"id": True}]}}})


def test_toml_problems_find_their_table_line(tmp_path: Path) -> None:
    path = tmp_path / "flags.toml"
    path.write_text(
        '[gates.a]\nrules = []\n\n[experiments.e]\nunit = "user_id"\nstatus = "paused"\n'
    )
    with pytest.raises(ConfigurationError) as exc:
        load_file(path)
    found = problems(exc)
    assert found["experiments.e.status"].line == 6
    assert found["experiments.e.groups"].line == 4


def test_json_problems_find_their_line(tmp_path: Path) -> None:
    path = tmp_path / "flags.json"
    data = {"gates": {"g": {"rules": [{"id": "a", "pass_percentage": -1}]}}}
    path.write_text(json.dumps(data, indent=2))
    with pytest.raises(ConfigurationError) as exc:
        load_file(path)
    assert problems(exc)["gates.g.rules[0].pass_percentage"].line == 7


def test_invalid_namespace_and_winner_for_running_experiment() -> None:
    flags = {
        "experiments": {
            "e": {
                "winner": "a",
                "namespace": {"name": "ns", "range": [0.6, 0.2]},
                "groups": [{"name": "a", "weight": 100}],
            }
        }
    }
    with pytest.raises(ConfigurationError) as exc:
        load_mapping(flags)
    text = messages(exc)
    assert "0 <= start < end <= 1" in text["experiments.e.namespace.range"]
    assert "set status: launched" in text["experiments.e.winner"]


def test_weights_may_round_thirds() -> None:
    groups = [{"name": n, "weight": 33.33} for n in "abc"]
    snapshot = load_mapping({"experiments": {"e": {"groups": groups}}})
    assert "e" in snapshot.experiments


def test_top_level_must_be_a_mapping() -> None:
    with pytest.raises(ConfigurationError, match="mapping of sections"):
        load_mapping([1, 2])  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("suffix", "text", "path", "lines"),
    [
        (
            ".yaml",
            "gates:\n  a: {rules: []}\n  b: {}\n  a: {enabled: false}\n",
            "gates.a",
            "2 and 4",
        ),
        (
            ".yaml",
            "gates:\n  a:\n    enabled: true\n    enabled: false\n",
            "gates.a.enabled",
            "3 and 4",
        ),
        (
            ".json",
            '{"configs": {"c": {"default": {}},\n  "c": {"default": {}}}}',
            "configs.c",
            "1 and 2",
        ),
    ],
)
def test_repeated_keys_are_reported_not_silently_dropped(
    tmp_path: Path, suffix: str, text: str, path: str, lines: str
) -> None:
    file = tmp_path / f"flags{suffix}"
    file.write_text(text)
    with pytest.raises(ConfigurationError) as exc:
        load_file(file)
    assert f"(lines {lines})" in messages(exc)[path]


@pytest.mark.parametrize("field", ["description", "segment"])
def test_a_wrong_value_built_from_aliases_is_shown_short(tmp_path: Path, field: str) -> None:
    # Each level holds ten aliases of the one below: the repr of the last is 10**6 items
    # (at eight levels the message of a 700-byte file took a minute and 4 GB).
    anchors = ["  - &a0 [a, b, c, d, e, f, g, h, i, j]"]
    anchors += [f"  - &a{n} [{', '.join([f'*a{n - 1}'] * 10)}]" for n in range(1, 6)]
    where = (
        "gates:\n  g:\n    description: *a5\n"
        if field == "description"
        else "segments:\n  s: *a5\n"
    )
    path = tmp_path / "flags.yaml"
    path.write_text("x-anchors:\n" + "\n".join(anchors) + "\n" + where, encoding="utf-8")
    with pytest.raises(ConfigurationError) as info:
        load_file(path)
    problems = [text for _, text in info.value.problems if "valid" in text]
    assert problems
    assert all(len(text) < 300 for text in problems), max(map(len, problems))
    assert len(str(info.value)) < 10_000


@pytest.mark.parametrize(
    ("name", "text", "where"),
    [
        # Unquoted, YAML reads a date: the rule compared it with the string the
        # application passes and silently never matched.
        ("flags.yaml", "gates:\n  g:\n    rules:\n      - when: {signup: 2024-01-01}\n", 4),
        ("flags.toml", "[configs.c]\ndefault = {starts = 2024-01-01}\n", 2),
        ("flags.yaml", "configs:\n  c:\n    default: {logo: !!binary aGVsbG8=}\n", 3),
        # A tagged mapping was built as a mapping of nulls and served so.
        ("flags.yaml", "configs:\n  c:\n    default: {tags: !!set {a, b}}\n", 3),
        ("flags.yaml", "gates:\n  g:\n    rules:\n      - when: {d: {$in: [x, 2024-01-01]}}\n", 4),
        ("flags.toml", "[configs.c]\ndefault = {at = 10:30:00}\n", 2),
    ],
)
def test_values_json_cannot_write_are_refused_with_their_place(
    tmp_path: Path, name: str, text: str, where: int
) -> None:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ConfigurationError) as info:
        load_file(path)
    [(location, message)] = info.value.problems
    assert location.line == where
    assert "JSON" in message
    assert "quote it" in message or "!!set" in message
