"""What the commands print: literal text (no markup), full width off a terminal, valid JSON."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from unprivileged import as_unprivileged, open_folder  # tests/support

from flagport import plugins
from flagport.cli import cli

LONG = "checkout_" + "very_long_segment_" * 6 + "end"  # 120 characters

FLAGS = f"""\
gates:
  "checkout[v2]":
    rules:
      - id: "us[1]"
        when: {{country: US}}
  {LONG}:
    rules:
      - pass_percentage: 100
configs:
  pricing:
    default: {{discount: 0}}
"""


def run(*args: str) -> Result:
    return CliRunner().invoke(cli, list(args))


@pytest.fixture(autouse=True)
def _no_columns(monkeypatch: pytest.MonkeyPatch) -> None:
    # Off a terminal the width is unlimited unless COLUMNS says otherwise.
    monkeypatch.delenv("COLUMNS", raising=False)


@pytest.fixture
def flags(tmp_path: Path) -> Path:
    # A path with brackets too: rich markup would read "[x]" as a style and drop it.
    path = tmp_path / "flags[x].yaml"
    path.write_text(FLAGS)
    return path


@pytest.fixture
def only_builtin_plugins(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setenv("FLAGPORT_DISABLE_PLUGINS", "1")
    plugins.reset()
    yield
    plugins.reset()


def test_an_error_keeps_text_in_square_brackets(only_builtin_plugins: None) -> None:
    result = run("eval", "gate", "g", "--provider", "statsig")
    assert result.exit_code == 1
    assert "pip install 'flagport[statsig]'" in result.stderr
    # One line, even though it is longer than 80 columns.
    assert len(result.stderr.strip().splitlines()) == 1


def test_validate_prints_paths_and_problems_literally(flags: Path, tmp_path: Path) -> None:
    ok = run("validate", str(flags))
    assert ok.exit_code == 0
    assert f"ok {flags}: 2 gates, 0 experiments, 1 config\n" == ok.stdout
    bad = tmp_path / "bad[1].yaml"
    bad.write_text('gates:\n  "g[1]":\n    rules:\n      - pass_percentage: 150\n')
    failed = run("validate", str(bad))
    assert failed.exit_code == 1
    assert f"1 problem in {bad}:" in failed.stderr
    assert f"  {bad}:" in failed.stderr
    assert " gates.g[1].rules[0].pass_percentage: Input should be" in failed.stderr


def test_eval_and_explain_print_flag_and_rule_names_literally(flags: Path) -> None:
    user = '{"user_id": "1", "country": "US"}'
    table = run("eval", str(flags), "gate", "checkout[v2]", "--user", user)
    assert table.exit_code == 0
    assert "gate checkout[v2]" in table.stdout
    assert "us[1]" in table.stdout
    story = run("explain", str(flags), "gate", "checkout[v2]", "--user", user)
    assert story.exit_code == 0
    assert f"gate checkout[v2] in {flags}" in story.stdout
    assert "rule 'us[1]'" in story.stdout


def test_escape_sequences_read_from_a_file_are_printed_inert(tmp_path: Path) -> None:
    # A flag or rule name in a hostile flags file reached the terminal as written: ESC
    # sequences could recolour the screen, set its title or write the clipboard.
    path = tmp_path / "flags.yaml"
    path.write_text(
        'gates:\n  "g\\e]0;pwn\\a\\e[31m":\n'
        '    rules: [{id: "r\\e[32m", pass_percentage: 100}]\n'
        '  bad: {rules: [{when: {"c\\e[2J": {$bogus: 1}}}]}\n'
    )
    failed = run("validate", str(path))
    assert failed.exit_code == 1
    assert "gates.bad.rules[0].when.c\\x1b[2J.$bogus: unknown operator $bogus" in failed.stderr
    name = "g\x1b]0;pwn\x07\x1b[31m"
    path.write_text("".join(path.read_text().splitlines(keepends=True)[:3]))  # without bad
    for command in ("eval", "explain"):
        result = run(command, str(path), "gate", name)
        assert result.exit_code == 0, result.output
        assert "\x1b" not in result.stdout + result.stderr
        assert "g\\x1b]0;pwn\\x07\\x1b[31m" in result.stdout
        assert "r\\x1b[32m" in result.stdout


def test_tables_are_not_squeezed_off_a_terminal(flags: Path) -> None:
    result = run("eval", str(flags), "gate", LONG)
    assert result.exit_code == 0
    assert f"│ {LONG} │" in result.stdout
    assert "…" not in result.stdout


def test_columns_still_limits_the_width_when_set(
    flags: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("COLUMNS", "60")
    result = run("eval", str(flags), "gate", LONG)
    assert max(len(line) for line in result.stdout.splitlines()) <= 60


def test_eval_json_is_valid_json_for_non_finite_vendor_values(tmp_path: Path) -> None:
    # GrowthBook's SDK reads its payload with json.loads, which accepts these.
    features = tmp_path / "features.json"
    features.write_text(
        '{"features": {"limits": {"defaultValue": '
        '{"max": Infinity, "min": -Infinity, "ratio": NaN, "n": 1.5}}}}'
    )
    result = run(
        "eval", "config", "limits", "--provider", "growthbook", "--json",
        "--option", "offline=true", "--option", f"bootstrap={features}",
    )  # fmt: skip
    assert result.exit_code == 0, result.output

    def refuse(token: str) -> None:
        raise AssertionError(f"{token} is not JSON")

    value = json.loads(result.stdout, parse_constant=refuse)["value"]
    assert value == {"max": "Infinity", "min": "-Infinity", "ratio": "NaN", "n": 1.5}


def test_counts_and_messages_are_grammatical(tmp_path: Path) -> None:
    one = tmp_path / "one.yaml"
    one.write_text("gates:\n  g: {}\nexperiments: {}\nconfigs:\n  c: {default: {}}\n")
    assert run("validate", str(one)).stdout == f"ok {one}: 1 gate, 0 experiments, 1 config\n"
    bad = tmp_path / "bad.yaml"
    bad.write_text("gates: [a, b]\n")
    result = run("validate", str(bad))
    assert result.exit_code == 1
    assert "1 problem in" in result.stderr
    assert "gates: must map each name to its definition, not list" in result.stderr


def test_every_command_module_prints_through_the_output_module() -> None:
    # Markup is off only on the consoles _output builds; a Console made elsewhere, or
    # a markup tag in a string, would bring the swallowed brackets back.
    cli_dir = Path(__file__).parents[3] / "core" / "src" / "flagport" / "cli"
    for module in cli_dir.glob("*.py"):
        if module.name == "_output.py":
            continue
        source = module.read_text()
        assert "Console(" not in source, module.name
        assert "rich.markup" not in source, module.name
        assert "[/]" not in source, module.name


ROOT = Path(__file__).resolve().parents[3]


def _writing_commands(tmp_path: Path, target: Path) -> dict[str, list[str]]:
    """Each command that writes a file, told to write ``target``."""
    key = tmp_path / "signing.key"
    assert run("keygen", str(key)).exit_code == 0
    flags = ROOT / "examples" / "flags.yaml"
    payload = ROOT / "examples" / "import" / "growthbook_features.json"
    return {
        "schema": ["schema", "--output", str(target)],
        "keygen": ["keygen", str(target)],
        "sign": ["sign", str(flags), "--key", str(key), "--output", str(target)],
        "import": ["import", "growthbook", str(payload), "--output", str(target)],
    }


@pytest.mark.parametrize("command", ["schema", "keygen", "sign", "import"])
def test_writing_into_a_missing_folder_says_which_folder_and_the_fix(
    tmp_path: Path, command: str
) -> None:
    target = tmp_path / "missing" / "out.yaml"
    result = run(*_writing_commands(tmp_path, target)[command])
    assert result.exit_code == 1, result.output
    assert result.stderr == (
        f"error: cannot write {target}: the folder {target.parent} does not exist; "
        f"create it first (mkdir -p {target.parent})\n"
    )
    assert not target.parent.exists()


@pytest.mark.parametrize("command", ["schema", "keygen", "sign", "import"])
def test_writing_through_a_file_says_the_path_is_not_a_folder(tmp_path: Path, command: str) -> None:
    blocker = tmp_path / "flags.yaml"
    blocker.write_text("gates: {}\n")
    target = blocker / "out.yaml"
    result = run(*_writing_commands(tmp_path, target)[command])
    assert result.exit_code == 1, result.output
    assert result.stderr == (
        f"error: cannot write {target}: a part of the path is a file, not a folder; "
        "choose a path inside a folder\n"
    )
    assert "Traceback" not in result.output


def test_writing_into_a_read_only_folder_says_permission_denied() -> None:
    with open_folder() as parent:
        folder = parent / "ro"
        folder.mkdir(mode=0o555)

        def write_schema() -> None:
            result = run("schema", "--output", str(folder / "schema.json"))
            assert result.exit_code == 1, result.output
            assert result.stderr.startswith(
                f"error: cannot write {folder / 'schema.json'}: permission"
            ), result.stderr

        as_unprivileged(write_schema)  # root writes into read-only folders


@pytest.mark.parametrize("command", ["schema", "sign", "import"])
def test_an_output_file_is_replaced_in_one_step_keeping_its_permissions(
    tmp_path: Path, command: str
) -> None:
    # It was rewritten in place: a provider watching it (a flags file, a migration
    # control file) could read it halfway, and a YAML file cut at a line end is valid.
    target = tmp_path / "out.yaml"
    target.write_text("old\n")
    target.chmod(0o640)
    before = target.stat().st_ino
    with target.open() as reader:  # a reader that opened the old file keeps all of it
        result = run(*_writing_commands(tmp_path, target)[command])
        assert reader.read() == "old\n"
    assert result.exit_code == 0, result.output
    assert target.stat().st_ino != before
    assert target.read_text() != "old\n"
    assert target.stat().st_mode & 0o777 == 0o640
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.yaml", "signing.key"]


def test_an_output_file_behind_a_link_is_replaced_and_the_link_kept(tmp_path: Path) -> None:
    real = tmp_path / "releases" / "flags.json"
    real.parent.mkdir()
    real.write_text("{}")
    link = tmp_path / "schema.json"
    link.symlink_to(real)
    assert run("schema", "--output", str(link)).exit_code == 0
    assert link.is_symlink()
    assert json.loads(real.read_text())["title"]


def test_a_new_private_key_is_readable_by_its_owner_only(tmp_path: Path) -> None:
    key = tmp_path / "flags.key"
    key.write_text("old")
    key.chmod(0o644)
    assert run("keygen", str(key), "--force").exit_code == 0
    assert key.stat().st_mode & 0o777 == 0o600
    assert key.read_text().startswith("-----BEGIN PRIVATE KEY-----")
