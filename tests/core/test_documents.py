"""The one document reader: YAML from libyaml's node tree like ``yaml.safe_load``, bounds,
errors with their file and line, and YAML imported only for YAML."""

from __future__ import annotations

import json
import math
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from flagport import ConfigurationError, _documents_yaml
from flagport._documents import parse_text, read_document


def test_yaml_merge_keys_may_override() -> None:
    text = "base: &b {weight: 50, name: a}\ngroup: {<<: *b, name: b}\n"
    document = parse_text(text, "yaml", "x")
    assert document.data["group"] == {"weight": 50, "name": "b"}
    assert document.repeated is False


TRICKY_YAML = """\
strings: [plain, "quoted", 'single', "007", "yes", ~text, "", 'it''s']
ints: [0, 7, 10, -3, +4, 1_000, 0x1F, 0o17, 017, 1:30]
floats: [1.5, -0.25, 1e3, .inf, -.Inf, .nan, 1_0.5]
bools: [yes, No, TRUE, false, on, OFF, y, n]
nulls: [~, null, Null, ]
empty_map: {}
nested: {a: {b: [1, {c: d}]}, "e f": 2}
anchors: &shared {x: 1, y: [2, 3]}
alias: *shared
merged: {<<: *shared, y: 4}
stamp: 2024-01-02
block: |
  two
  lines
folded: >
  one
  line
3: numeric key
"""


def test_fast_yaml_builder_matches_safe_load() -> None:
    document = parse_text(TRICKY_YAML, "yaml", "tricky.yaml")
    ours, theirs = document.data, yaml.safe_load(TRICKY_YAML)
    assert document.repeated is False
    nan_ours, nan_theirs = ours["floats"].pop(5), theirs["floats"].pop(5)
    assert math.isnan(nan_ours)
    assert math.isnan(nan_theirs)
    assert ours == theirs
    assert [type(v) for v in ours["ints"]] == [type(v) for v in theirs["ints"]]


def test_unhashable_yaml_key_is_a_syntax_problem() -> None:
    with pytest.raises(ConfigurationError, match="unhashable key"):
        parse_text("? [a, b]\n: 1\n", "yaml", "bad.yaml")


# -- the one reader: every caller gets the same bounds and errors -----------------------
@pytest.mark.parametrize("fmt", ["json", "toml", "yaml"])
def test_syntax_errors_carry_the_file_and_line_in_every_format(tmp_path: Path, fmt: str) -> None:
    text = {
        "json": '{\n  "a": 1,\n  "b": }\n',
        "toml": "a = 1\nb = 2\nc = \n",
        "yaml": "a: 1\nb: [\n",
    }
    path = tmp_path / f"doc.{fmt}"
    path.write_text(text[fmt])
    with pytest.raises(ConfigurationError, match=rf"not valid {fmt.upper()} \(thing\)") as info:
        read_document(path, what="thing")
    ((location, message),) = info.value.problems
    assert location.source == str(path)
    assert location.line == 3
    assert message.startswith("syntax error: ")


@pytest.mark.parametrize(
    "text",
    [
        'provider = "local"\n[local]\npath = "flags.yaml"\n\tbad',  # a key with no value
        'provider = "local"\n[local]\nheaders = {a = "1"',  # an inline table left open
        'provider = "local"\n[local]\npath = "flags.yaml',  # a string left open
    ],
)
def test_a_toml_file_that_ends_too_early_names_its_last_line(text: str) -> None:
    # tomllib says "at end of document", with no line: the message said "fix the syntax
    # at this line" and named none.
    with pytest.raises(ConfigurationError) as info:
        parse_text(text, "toml", "flagport.toml")
    ((location, message),) = info.value.problems
    assert location.line == (4 if "bad" in text else 3)
    assert "(at end of document)" in message


def test_the_format_may_be_fixed_whatever_the_extension(tmp_path: Path) -> None:
    path = tmp_path / "settings.conf"
    path.write_text('provider = "passall"\n')
    assert read_document(path, fmt="toml").data == {"provider": "passall"}
    with pytest.raises(ConfigurationError, match=r"unknown thing type '\.conf'; name it \.json"):
        read_document(path, what="thing", formats=("json",))


@pytest.mark.parametrize(
    ("fmt", "text", "bad"),
    [
        ("json", '{"a": [1]}\n', '{"a": 1,\n "b": }\n'),
        ("toml", "a = [1]\n", "a = 1\nb = \n"),
        ("yaml", "a: [1]\n", "a: 1\nb: [\n"),
    ],
)
def test_a_utf8_byte_order_mark_is_read_in_every_format(
    tmp_path: Path, fmt: str, text: str, bad: str
) -> None:
    # Windows editors save UTF-8 with a byte-order mark first: YAML was read, but JSON
    # and TOML reported a syntax error at line 1 ("Unexpected UTF-8 BOM", "Invalid
    # statement") that the person cannot see in the file.
    path = tmp_path / f"doc.{fmt}"
    path.write_bytes(b"\xef\xbb\xbf" + text.encode())
    assert read_document(path).data == {"a": [1]}
    lines = []
    for start in (b"", b"\xef\xbb\xbf"):
        path.write_bytes(start + bad.encode())
        with pytest.raises(ConfigurationError) as info:
            read_document(path)
        ((location, _),) = info.value.problems
        lines.append(location.line)
    assert lines[0] == lines[1] > 1


def test_unreadable_and_non_utf8_files_are_configuration_errors(tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError, match=r"cannot read the thing \(.*\); do this"):
        read_document(tmp_path / "missing.json", what="thing", fix="do this")
    path = tmp_path / "latin1.toml"
    path.write_bytes(b'name = "caf\xe9"\n')
    with pytest.raises(ConfigurationError, match="not UTF-8 text"):
        read_document(path)


def test_every_format_is_read_within_the_size_bound(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("flagport._documents.MAX_DOCUMENT_BYTES", 1024)
    for fmt, text in (("json", '{"a": "%s"}'), ("toml", 'a = "%s"'), ("yaml", "a: %s")):
        path = tmp_path / f"big.{fmt}"
        path.write_text(text % ("x" * 2000))
        with pytest.raises(ConfigurationError, match="larger than"):
            read_document(path)


@pytest.mark.parametrize("fmt", ["json", "toml"])
def test_deep_nesting_and_huge_integers_are_located_in_every_format(
    tmp_path: Path, fmt: str
) -> None:
    deep = {
        "json": '{"a":\n' + "[" * 100_000 + "]" * 100_000 + "}",
        "toml": "a = 1\nb = " + "[" * 100_000 + "]" * 100_000,
    }
    path = tmp_path / f"deep.{fmt}"
    path.write_text(deep[fmt])
    with pytest.raises(ConfigurationError) as info:
        read_document(path)
    ((location, message),) = info.value.problems
    assert "nested too deep" in message
    assert location.line == 2
    digits = {"json": '{\n"a": %s}', "toml": "\na = %s"}
    path.write_text(digits[fmt] % ("9" * 5000))
    with pytest.raises(ConfigurationError) as info:
        read_document(path)
    ((location, message),) = info.value.problems
    assert "5,000 digits" in message
    assert location.line == 2


def test_a_document_is_composed_once_for_its_repeated_keys_and_its_problems(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    calls = []
    real = _documents_yaml.compose

    def counting(text: str) -> object:
        calls.append(text)
        return real(text)

    monkeypatch.setattr(_documents_yaml, "compose", counting)
    document = parse_text("a: 1\nb:\n  c: 2\na: 3\n", "yaml", "x.yaml")
    assert document.repeated
    assert [path for path, _ in document.repeated_keys()] == ["a"]
    located = document.locate([("b.c", "wrong"), ("a", "also wrong")])
    assert [(loc.line, loc.path) for loc, _ in located] == [(3, "b.c"), (1, "a")]
    assert len(calls) == 1


def test_top_level_toml_keys_are_located() -> None:
    document = parse_text("sample_rate = 2\n[ramp]\ngate = 150\n", "toml", "c.toml")
    located = document.locate([("sample_rate", "x"), ("ramp.gate", "y"), ("nope", "z")])
    assert [loc.line for loc, _ in located] == [1, 3, None]


_READ_WITHOUT_YAML = """
import json, sys
from pathlib import Path
from flagport._documents import read_document
folder = Path(sys.argv[1])
(folder / "doc.toml").write_text('a = 1\\n')
(folder / "doc.json").write_text('{"a": 1, "a": 2}')
read_document(folder / "doc.toml")
json_document = read_document(folder / "doc.json")
print(json.dumps({"yaml": "yaml" in sys.modules, "repeated": json_document.repeated}))
"""


def test_reading_toml_or_json_imports_no_yaml(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-c", _READ_WITHOUT_YAML, str(tmp_path)],
        capture_output=True,
        text=True,
        check=True,
    )
    assert json.loads(done.stdout) == {"yaml": False, "repeated": True}


_YAML_IMPORTED_AGAIN = """
import sys
import yaml
for name in [m for m in sys.modules if m == "yaml" or m.startswith("yaml.")]:
    del sys.modules[name]
from flagport._documents import parse_text
from flagport.importers.run import dump
print(parse_text("gates:\\n  a: {default: true}\\n", "yaml", "flags.yaml").data)
print(dump({"gates": {"a": {"default": True}}}, "flags.yaml"), end="")
"""


def test_yaml_loads_and_dumps_after_pyyaml_was_imported_again() -> None:
    # pytester's in-process runs drop modules imported during a run; PyYAML's C
    # extension is not re-initialised and keeps the first import's node and event
    # classes (an imported file failed to be written: "expected SCALAR, ...").
    run = subprocess.run(
        [sys.executable, "-c", _YAML_IMPORTED_AGAIN], capture_output=True, text=True, timeout=60
    )
    assert run.returncode == 0, run.stderr
    assert "'gates': {'a': {'default': True}}" in run.stdout
    assert run.stdout.endswith("gates:\n  a:\n    default: true\n")


def test_a_yaml_document_is_never_composed_deeper_than_the_nesting_limit(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # libyaml before 0.2.5 (PyYAML 6.0's wheels) composes any depth recursively in C and
    # crashes the process past some tens of thousands of levels; flagport counts the
    # depth from the parser's events first. (A tag sends the document to the node tree.)
    from flagport import _documents_yaml

    monkeypatch.setattr(_documents_yaml, "MAX_NESTING", 50)
    text = "a: !!str x\nb: " + "[" * 60 + "]" * 60 + "\n"
    with pytest.raises(ConfigurationError) as info:
        parse_text(text, "yaml", "deep.yaml")
    ((location, message),) = info.value.problems
    assert "nested deeper than 50 levels" in message
    assert location.line == 2
    assert _documents_yaml.compose(text) is None
    assert parse_text("a: !!str x\nb: " + "[" * 40 + "]" * 40, "yaml", "ok.yaml").data["a"] == "x"


@pytest.mark.parametrize("name", ["conf", "flags.yaml"])
def test_a_folder_is_named_a_folder(tmp_path: Path, name: str) -> None:
    # A folder without an extension was "unknown flags file type '(no extension)'".
    folder = tmp_path / name
    folder.mkdir()
    with pytest.raises(ConfigurationError) as info:
        read_document(folder, what="flags file")
    assert str(info.value) == f"{folder}: is a folder, not a flags file; give the flags file's path"


def test_yaml_keys_read_as_one_value_are_a_repeated_key() -> None:
    # `on` and `yes` are both true to YAML: the mapping kept one of them, but the check
    # of repeated keys compared their text and found none, so a value was lost silently.
    text = "configs:\n  c:\n    default:\n      on: 1\n      yes: 2\n      ~: 3\n      null: 4\n"
    document = parse_text(text, "yaml", "flags.yaml")
    assert document.data["configs"]["c"]["default"] == {True: 2, None: 4}
    problems = dict(document.repeated_keys())
    assert problems["configs.c.default.yes"].startswith(
        "'on' and 'yes' are one key to YAML, both read as true (lines 4 and 5); only the "
        "last would be used: quote them to keep both as text"
    )
    assert (
        "'~' and 'null' are one key to YAML, both read as null"
        in (problems["configs.c.default.null"])
    )


def test_yaml_keys_read_as_true_false_or_null_are_reported() -> None:
    # A config `{yes: 1, no: 0}` was served as {"True": 1, "False": 0}, without a word.
    text = "configs:\n  c:\n    default: {yes: 1, no: 0, 'on': 2, ~: 3, plain: 4}\n"
    document = parse_text(text, "yaml", "flags.yaml")
    assert dict(document.repeated_keys()) == {
        "configs.c.default.yes": "the key 'yes' is read by YAML as true, not as the text "
        "'yes': quote it to mean the text",
        "configs.c.default.no": "the key 'no' is read by YAML as false, not as the text "
        "'no': quote it to mean the text",
        "configs.c.default.~": "the key '~' is read by YAML as null, not as the text '~': "
        "quote it to mean the text",
    }
    assert parse_text("a: {'yes': 1, 'null': 2}\n", "yaml", "x.yaml").repeated_keys() == []
