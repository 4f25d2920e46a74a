"""Reading the plugin's options: known-flags files and provider options."""

from __future__ import annotations

from pathlib import Path

import pytest

from flagport import FlagNames
from flagport.settings import load_settings
from pytest_flagport.settings import PluginSettings, load_known_flags

pytest_plugins = ["pytester"]


@pytest.mark.parametrize(
    ("name", "text"),
    [
        (
            "flags.yaml",
            "gates:\n  a: {rules: []}\n  b: {}\nexperiments:\n  x: {}\nconfigs:\n  c: {}\n",
        ),
        ("flags.json", '{"gates": {"a": {}, "b": {}}, "experiments": ["x"], "configs": {"c": {}}}'),
        ("flags.toml", 'gates = ["a", "b"]\n[experiments.x]\n[configs.c]\ndefault = {v = 1}\n'),
    ],
)
def test_known_flags_are_read_from_yaml_json_and_toml(tmp_path: Path, name: str, text: str) -> None:
    path = tmp_path / name
    path.write_text(text)
    assert load_known_flags(path) == FlagNames(
        frozenset({"a", "b"}), frozenset({"x"}), frozenset({"c"})
    )


@pytest.mark.parametrize(
    ("name", "text", "message"),
    [
        (
            "flags.ini",
            "[gates]",
            "unknown flagport known flags file type '.ini'; name it .yaml, .yml, .json or .toml",
        ),
        ("flags.yaml", "gates: [a\n", "not valid"),
        ("flags.yaml", "segments: {}\n", "expected top-level 'gates', 'experiments'"),
        ("flags.json", '{"gates": 3}', "'gates' must be a table or a list of names, not int"),
    ],
)
def test_bad_known_flags_files_name_the_file_and_the_fix(
    tmp_path: Path, name: str, text: str, message: str
) -> None:
    path = tmp_path / name
    path.write_text(text)
    with pytest.raises(pytest.UsageError, match="flagport known flags file") as info:
        load_known_flags(path)
    assert str(path) in str(info.value)
    assert message in str(info.value)


def test_a_syntax_error_in_the_known_flags_file_names_its_line(tmp_path: Path) -> None:
    path = tmp_path / "flags.json"
    path.write_text('{\n  "gates": [\n    "a",\n  ]\n}\n')
    with pytest.raises(pytest.UsageError) as info:
        load_known_flags(path)
    assert f"{path}:4: syntax error" in str(info.value)


def test_applied_settings_select_the_provider_and_its_options(tmp_path: Path) -> None:
    settings = PluginSettings(
        provider="local",
        option_layers=(
            ("ini", {"path": "flags.yaml", "watch": "true"}, tmp_path / "ini"),
            ("--flagport-option", {"watch": "false"}, tmp_path),
        ),
        strict=False,
    )
    assert settings.options == {"path": "flags.yaml", "watch": "false"}
    with settings.applied():
        applied = load_settings(environ={"FLAGPORT_PROVIDER": "statsig", "FLAGPORT_STRICT": "1"})
    assert (applied.provider, applied.strict) == ("local", False)
    assert applied.options == {"path": str(tmp_path / "ini" / "flags.yaml"), "watch": "false"}
    assert applied.sources["watch"] == "--flagport-option [local] watch"
    assert load_settings(environ={}).provider == "local"
    assert load_settings(environ={}).options == {}


def test_relative_paths_are_fixed_where_they_were_written(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    # An ini path is relative to the ini file, a command-line path to the current
    # directory; both stay right when a test changes directory.
    for conf in (pytester.path / "sub" / "conf", pytester.path / "conf"):
        conf.mkdir(parents=True)  # a flags file that does not load stops the run
        (conf / "flags.yaml").write_text("gates: {}\n")
    (pytester.path / "sub" / "pytest.ini").write_text(
        "[pytest]\nflagport_provider = local\nflagport_options =\n    path=conf/flags.yaml\n"
    )
    pytester.makepyfile(
        """
        import os
        from flagport.settings import load_settings

        def test_path(tmp_path, monkeypatch):
            monkeypatch.chdir(tmp_path)
            expected = os.path.join(os.environ["EXPECTED_ROOT"], "conf", "flags.yaml")
            assert load_settings().options["path"] == expected
        """
    )
    monkeypatch.setenv("EXPECTED_ROOT", str(pytester.path / "sub"))
    pytester.runpytest("-c", "sub/pytest.ini", "--rootdir", ".").assert_outcomes(passed=1)

    monkeypatch.setenv("EXPECTED_ROOT", str(pytester.path))
    from_cli = pytester.runpytest(
        "-c", "sub/pytest.ini", "--rootdir", ".", "--flagport-option", "path=conf/flags.yaml"
    )
    from_cli.assert_outcomes(passed=1)
