from __future__ import annotations

import re
from pathlib import Path

import pytest
from pydantic import Field, SecretStr

from flagport import ConfigurationError, Flagport, ProviderOptions
from flagport.providers.passall import PassAllProvider
from flagport.settings import ALL_OPTIONS, load_settings, override_settings, validate_options
from flagport.settings_files import resolve_paths


def write(path: Path, text: str) -> Path:
    path.write_text(text)
    return path


def test_precedence_pyproject_then_file_then_env_then_arguments(tmp_path: Path) -> None:
    write(
        tmp_path / "pyproject.toml",
        '[tool.flagport]\nprovider = "passall"\n[tool.flagport.passall]\na = "pyproject"\n'
        'b = "pyproject"\nc = "pyproject"\nd = "pyproject"\n',
    )
    write(tmp_path / "flagport.toml", '[passall]\nb = "file"\nc = "file"\nd = "file"\n')
    env = {"FLAGPORT_PASSALL_C": "env", "FLAGPORT_PASSALL_D": "env"}
    settings = load_settings(options={"d": "argument"}, cwd=tmp_path, environ=env)
    assert settings.provider == "passall"
    assert settings.options == {"a": "pyproject", "b": "file", "c": "env", "d": "argument"}
    assert settings.sources["b"].endswith("flagport.toml [passall] b")
    assert settings.sources["c"] == "environment FLAGPORT_PASSALL_C"


def test_provider_choice_follows_the_same_precedence(tmp_path: Path) -> None:
    write(tmp_path / "flagport.toml", 'provider = "growthbook"\n')
    assert load_settings(cwd=tmp_path, environ={}).provider == "growthbook"
    env = {"FLAGPORT_PROVIDER": "statsig"}
    assert load_settings(cwd=tmp_path, environ=env).provider == "statsig"
    assert load_settings("passall", cwd=tmp_path, environ=env).provider == "passall"


def test_env_json_values_and_strict_and_events(tmp_path: Path) -> None:
    env = {
        "FLAGPORT_PROVIDER": "passall",
        "FLAGPORT_PASSALL_BOOTSTRAP": '{"a": [1, 2]}',
        "FLAGPORT_STRICT": "true",
        "FLAGPORT_EVENTS_SINKS": '["jsonl"]',
    }
    settings = load_settings(cwd=tmp_path, environ=env)
    assert settings.options == {"bootstrap": {"a": [1, 2]}}
    assert settings.strict is True
    assert settings.events == {"sinks": ["jsonl"]}


def test_flagport_config_naming_a_flags_file_says_so(tmp_path: Path) -> None:
    # It named syntax errors of the YAML file read as TOML ("Expected '=' after a key").
    flags = write(tmp_path / "flags.yaml", "gates:\n  g: {rules: []}\n")
    with pytest.raises(ConfigurationError, match=r"which is not a TOML settings file"):
        load_settings(environ={"FLAGPORT_CONFIG": str(flags)}, cwd=tmp_path)


def test_explicit_config_file_and_missing_one(tmp_path: Path) -> None:
    config = write(tmp_path / "custom.toml", 'provider = "passall"\nstrict = true\n')
    assert load_settings(environ={"FLAGPORT_CONFIG": str(config)}, cwd=tmp_path).strict
    with pytest.raises(ConfigurationError, match="does not exist"):
        load_settings(environ={"FLAGPORT_CONFIG": str(tmp_path / "nope.toml")}, cwd=tmp_path)


def test_bad_toml_names_the_file(tmp_path: Path) -> None:
    write(tmp_path / "flagport.toml", "provider = \n")
    with pytest.raises(ConfigurationError, match=r"flagport\.toml: not valid TOML") as info:
        load_settings(cwd=tmp_path, environ={})
    ((location, message),) = info.value.problems
    assert (location.source, location.line) == (str(tmp_path / "flagport.toml"), 1)
    assert "fix the syntax" in message


def test_a_settings_file_that_is_not_utf8_is_a_configuration_error(tmp_path: Path) -> None:
    # tomllib raised UnicodeDecodeError through load_settings: a traceback, not a fix.
    (tmp_path / "pyproject.toml").write_bytes(b'[tool.flagport]\nprovider = "caf\xe9"\n')
    with pytest.raises(ConfigurationError, match=r"pyproject\.toml: not UTF-8 text"):
        load_settings(cwd=tmp_path, environ={})


def test_unknown_top_level_key_is_an_error(tmp_path: Path) -> None:
    write(tmp_path / "flagport.toml", 'provder = "passall"\n')
    with pytest.raises(ConfigurationError, match="unknown top-level setting 'provder'"):
        load_settings(cwd=tmp_path, environ={})


class SecretOptions(ProviderOptions):
    server_secret: SecretStr = Field(description="The secret.")
    timeout_ms: int = 3000


def test_option_errors_name_their_source_and_suggest_a_fix() -> None:
    with pytest.raises(ConfigurationError) as info:
        validate_options(
            SecretOptions,
            {"server_secret": "secret-abc123", "timeout_ms": "soon", "timout": 1},
            {
                "timeout_ms": "environment FLAGPORT_X_TIMEOUT_MS",
                "timout": "flagport.toml [x] timout",
            },
            "provider 'x'",
        )
    message = str(info.value)
    assert "environment FLAGPORT_X_TIMEOUT_MS" in message
    assert "flagport.toml [x] timout" in message
    assert "did you mean 'timeout_ms'?" in message
    assert "secret-abc123" not in message
    assert len(info.value.problems) == 2


def test_missing_required_option_says_how_to_set_it() -> None:
    with pytest.raises(ConfigurationError, match="'server_secret' is required"):
        validate_options(SecretOptions, {}, {}, "provider 'x'")


def test_secrets_never_appear_in_repr_or_describe() -> None:
    options = SecretOptions(server_secret=SecretStr("secret-abc123"))
    assert "secret-abc123" not in repr(options)
    assert "secret-abc123" not in str(options.model_dump(mode="json"))


def test_client_uses_settings_files(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    write(tmp_path / "flagport.toml", 'provider = "passall"\n[passall]\ngate_value = false\n')
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("FLAGPORT_PROVIDER", raising=False)
    with Flagport.from_settings() as fp:
        assert fp.provider_name == "passall"
        assert fp.check_gate({"user_id": "1"}, "g") is False
    with Flagport(gate_value=True) as fp:
        assert fp.check_gate({"user_id": "1"}, "g") is True


# -- discovery: up from the current directory, to the project root -------------------------


def project(tmp_path: Path) -> Path:
    """A project root (it has ``.git``) with a subfolder ``src/app``; returns the root."""
    root = tmp_path / "project"
    (root / ".git").mkdir(parents=True)
    (root / "src" / "app").mkdir(parents=True)
    return root


def work_in(folder: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Run from ``folder``, with no settings from the environment of the test run."""
    monkeypatch.chdir(folder)
    for name in ("FLAGPORT_PROVIDER", "FLAGPORT_CONFIG", "FLAGPORT_LOCAL_PATH"):
        monkeypatch.delenv(name, raising=False)


def test_flagport_toml_is_found_from_a_subfolder(tmp_path: Path) -> None:
    root = project(tmp_path)
    write(root / "flagport.toml", 'provider = "passall"\n[passall]\ngate_value = false\n')
    settings = load_settings(cwd=root / "src" / "app", environ={})
    assert settings.provider == "passall"
    assert settings.options == {"gate_value": False}
    assert settings.sources[ALL_OPTIONS] == f"settings read from {root / 'flagport.toml'}"


def test_pyproject_tool_table_is_found_from_a_subfolder(tmp_path: Path) -> None:
    root = project(tmp_path)
    write(root / "pyproject.toml", '[tool.flagport]\nprovider = "passall"\n')
    assert load_settings(cwd=root / "src" / "app", environ={}).provider == "passall"


def test_a_pyproject_that_defines_no_flagport_key_is_not_parsed(tmp_path: Path) -> None:
    # It cannot hold [tool.flagport]: another tool's broken table is not flagport's
    # error (it was, reported as a TOML syntax error), and a cold start parses nothing.
    write(
        tmp_path / "pyproject.toml",
        '[project]\nname = "app"\ndependencies = ["flagport>=1.0", "flagport-statsig"]\n'
        "[tool.uv.sources]\nflagport = { workspace = true }\n[tool.flagport-docs]\nx = 1\n"
        "[tool.other]\nx = \n",
    )
    settings = load_settings(cwd=tmp_path, environ={})
    assert settings.provider == "local"
    assert "no settings file found" in settings.sources[ALL_OPTIONS]


@pytest.mark.parametrize(
    "document",
    [
        '[tool.flagport]\nprovider = "passall"\n',
        '[ tool . "flagport" ]\nprovider = "passall"\n',
        "[tool.'flagport']\nprovider = 'passall'\n",
        '[tool."\\u0066lagport"]\nprovider = "passall"\n',
        '[tool]\nflagport.provider = "passall"\n',
        '[ "tool" ]\n"flagport" = { provider = "passall" }\n',
        'tool.flagport.provider = "passall"\n',
        '"tool" . \'flagport\' . provider = "passall"\n',
        'tool = { flagport = { provider = "passall" } }\n',
        '[project]\nname = "app"\n  [tool.flagport]  # settings\n  provider = "passall"\n',
        '[tool.flagport]\r\nprovider = "passall"\r\n',
    ],
)
def test_a_pyproject_defining_flagport_in_any_spelling_is_read(
    tmp_path: Path, document: str
) -> None:
    write(tmp_path / "pyproject.toml", document)
    assert load_settings(cwd=tmp_path, environ={}).provider == "passall"


def test_a_broken_pyproject_that_mentions_flagport_is_still_reported(tmp_path: Path) -> None:
    write(tmp_path / "pyproject.toml", '[tool.flagport]\nprovider = "passall\n')
    with pytest.raises(ConfigurationError, match=r"pyproject\.toml: not valid TOML"):
        load_settings(cwd=tmp_path, environ={})


def test_the_nearest_directory_with_settings_wins(tmp_path: Path) -> None:
    root = project(tmp_path)
    write(root / "flagport.toml", 'provider = "growthbook"\n')
    write(root / "src" / "flagport.toml", 'provider = "passall"\n')
    assert load_settings(cwd=root / "src" / "app", environ={}).provider == "passall"


@pytest.mark.parametrize("marker", [".git", ".hg", "pyproject.toml"])
def test_the_search_stops_at_the_project_root(tmp_path: Path, marker: str) -> None:
    write(tmp_path / "flagport.toml", 'provider = "passall"\n')  # above the project
    root = tmp_path / "project"
    (root / "sub").mkdir(parents=True)
    if marker == "pyproject.toml":
        write(root / marker, "[project]\nname = 'app'\n")
    else:
        (root / marker).mkdir()
    settings = load_settings(cwd=root / "sub", environ={})
    assert settings.provider == "local"
    assert settings.sources[ALL_OPTIONS] == (
        f"no settings file found (looked for flagport.toml and [tool.flagport] in "
        f"pyproject.toml in {root / 'sub'} up to {root}); provider 'local' is the default"
    )


@pytest.fixture
def in_src(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A :func:`project` run from its ``src`` folder; returns the project root."""
    root = project(tmp_path)
    work_in(root / "src", monkeypatch)
    return root


def test_without_settings_the_error_says_none_was_found(in_src: Path) -> None:
    root = in_src
    with pytest.raises(ConfigurationError) as info:
        Flagport.from_settings()
    message = str(info.value)
    assert "no settings file found (looked for flagport.toml and [tool.flagport] in " in message
    assert f"in {root / 'src'} up to {root}); provider 'local' is the default" in message
    assert "option ''" not in message
    assert "the local provider needs definitions" in message


def test_a_rule_across_options_names_where_they_were_given(
    in_src: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with pytest.raises(ConfigurationError) as info:
        Flagport(provider="local", path="flags.yaml", url="http://127.0.0.1:9/flags.yaml")
    assert info.value.problems[0][0].source == "argument path, argument url"
    assert "no settings file found" not in str(info.value)
    assert "path= (a file) or url= (polled over HTTP), not both" in str(info.value)

    write(in_src / "flagport.toml", '[local]\npath = "flags.yaml"\n')
    monkeypatch.setenv("FLAGPORT_LOCAL_URL", "http://127.0.0.1:9/flags.yaml")
    with pytest.raises(ConfigurationError) as info:
        Flagport.from_settings()
    assert info.value.problems[0][0].source == (
        f"{in_src / 'flagport.toml'} [local] path, environment FLAGPORT_LOCAL_URL"
    )


def test_an_events_setting_is_reported_with_where_it_was_set(
    in_src: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Every [events] problem said "[events] KEY", whatever had set it.
    write(in_src / "flagport.toml", "[local]\nwatch = false\n[events]\nbatch_size = 0\n")
    monkeypatch.setenv("FLAGPORT_EVENTS_MAX_QUEUE", "lots")
    with pytest.raises(ConfigurationError) as info:
        Flagport(provider="local", flags={}, events={"flush_interval": -1})
    assert sorted(location.source for location, _ in info.value.problems) == [
        f"{in_src / 'flagport.toml'} [events] batch_size",
        "argument events['flush_interval']",
        "environment FLAGPORT_EVENTS_MAX_QUEUE",
    ]


def test_sinks_from_the_environment_may_be_names_separated_by_commas(
    in_src: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # FLAGPORT_EVENTS_SINKS=jsonl was "Input should be a valid list".
    monkeypatch.setenv("FLAGPORT_EVENTS_SINKS", "provider, logging")
    with Flagport(provider="passall") as fp:
        assert fp.event_settings.sinks == ["provider", "logging"]


def test_a_missing_option_names_the_files_read(tmp_path: Path) -> None:
    root = project(tmp_path)
    write(root / "flagport.toml", 'provider = "x"\n')
    settings = load_settings(cwd=root, environ={})
    with pytest.raises(ConfigurationError) as info:
        validate_options(SecretOptions, settings.options, settings.sources, "provider 'x'")
    where = f"settings read from {root / 'flagport.toml'} at server_secret"
    assert f"{where}: option 'server_secret' is required" in str(info.value)


# -- relative paths resolve against the file that set them -----------------------------------


def test_relative_paths_in_a_file_resolve_against_its_directory(tmp_path: Path) -> None:
    root = project(tmp_path)
    write(
        root / "flagport.toml",
        'provider = "local"\n[local]\npath = "flags/flags.yaml"\n'
        '[events]\njsonl_path = "logs/events.jsonl"\n',
    )
    settings = load_settings(cwd=root / "src" / "app", environ={})
    assert settings.options == {"path": str(root / "flags" / "flags.yaml")}
    assert settings.events == {"jsonl_path": str(root / "logs" / "events.jsonl")}


def test_paths_from_code_and_environment_stay_as_given(tmp_path: Path) -> None:
    root = project(tmp_path)
    write(root / "flagport.toml", '[local]\npath = "a.yaml"\n[events]\njsonl_path = "e.jsonl"\n')
    env = {"FLAGPORT_LOCAL_PATH": "b.yaml", "FLAGPORT_EVENTS_JSONL_PATH": "f.jsonl"}
    assert load_settings(cwd=root, environ=env).options == {"path": "b.yaml"}
    assert load_settings(cwd=root, environ=env).events == {"jsonl_path": "f.jsonl"}
    assert load_settings(options={"path": "c.yaml"}, cwd=root, environ={}).options == {
        "path": "c.yaml"
    }


def test_absolute_paths_and_other_options_are_untouched(tmp_path: Path) -> None:
    root = project(tmp_path)
    write(root / "flagport.toml", f'[local]\npath = "{root / "f.yaml"}"\nwatch = false\n')
    assert load_settings(cwd=root, environ={}).options == {
        "path": str(root / "f.yaml"),
        "watch": False,
    }


def test_flagport_config_paths_resolve_against_that_file(tmp_path: Path) -> None:
    root = project(tmp_path)
    elsewhere = tmp_path / "conf"
    elsewhere.mkdir()
    write(elsewhere / "flagport.toml", '[local]\npath = "flags.yaml"\n')
    env = {"FLAGPORT_CONFIG": "../../conf/flagport.toml"}
    settings = load_settings(cwd=root / "src", environ=env)
    assert settings.options == {"path": str(elsewhere / "flags.yaml")}
    assert settings.sources[ALL_OPTIONS] == (
        f"settings read from {elsewhere / 'flagport.toml'}; provider 'local' is the default"
    )


def test_migration_paths_and_its_sides_paths_resolve_against_the_file(tmp_path: Path) -> None:
    root = project(tmp_path)
    write(
        root / "flagport.toml",
        'provider = "migration"\n[migration]\ncontrol_file = "control.toml"\n'
        'mismatch_log = "logs/mismatches.jsonl"\n'
        '[migration.from]\nprovider = "local"\npath = "old.yaml"\n'
        '[migration.to]\nprovider = "passall"\ngate_value = true\n',
    )
    options = load_settings(cwd=root / "src", environ={}).options
    assert options["control_file"] == str(root / "control.toml")
    assert options["mismatch_log"] == str(root / "logs" / "mismatches.jsonl")
    assert options["from"] == {"provider": "local", "path": str(root / "old.yaml")}
    assert options["to"] == {"provider": "passall", "gate_value": True}


def test_a_flags_file_next_to_the_settings_is_served_from_a_subfolder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = project(tmp_path)
    write(root / "flagport.toml", '[local]\npath = "flags.yaml"\nwatch = false\n')
    write(root / "flags.yaml", "gates:\n  on_for_all:\n    rules:\n      - id: all\n")
    work_in(root / "src" / "app", monkeypatch)
    with Flagport.from_settings(strict=True) as fp:
        assert fp.check_gate({"user_id": "1"}, "on_for_all") is True


# -- docs/settings.md ------------------------------------------------------------------------

DOC = Path(__file__).resolve().parents[2] / "docs" / "settings.md"


def _blocks(language: str) -> list[str]:
    return re.findall(rf"```{language}\n(.*?)```", DOC.read_text(), flags=re.DOTALL)


def test_doc_settings_file_example_loads_with_paths_next_to_it(tmp_path: Path) -> None:
    root = project(tmp_path)
    (toml,) = _blocks("toml")
    write(root / "flagport.toml", toml)
    settings = load_settings(cwd=root / "src", environ={})
    assert (settings.provider, settings.strict) == ("local", False)
    assert settings.options == {"path": str(root / "flags.yaml")}
    assert settings.events == {
        "sinks": ["provider", "jsonl"],
        "jsonl_path": str(root / "logs" / "events.jsonl"),
    }


def test_doc_path_option_example_marks_a_path(tmp_path: Path) -> None:
    (code,) = [block for block in _blocks("python") if "PathOption" in block]
    namespace: dict[str, object] = {}
    exec(compile(code, str(DOC), "exec", dont_inherit=True), namespace)
    model = namespace["MyOptions"]
    assert isinstance(model, type)
    assert issubclass(model, ProviderOptions)
    options = {"rules_file": "rules.yaml"}
    resolve_paths(options, {"rules_file": tmp_path}, model)
    assert options == {"rules_file": str(tmp_path / "rules.yaml")}


def test_doc_error_without_settings_is_the_message_a_client_gives(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The page's copy lacked url=, which the message has offered since URL sources came.
    shown = re.findall(r"^```\n(invalid options for .*?)```", DOC.read_text(), re.S | re.M)[0]
    root = tmp_path / "srv" / "app"
    (root / ".git").mkdir(parents=True)
    (root / "src").mkdir()
    work_in(root / "src", monkeypatch)
    with pytest.raises(ConfigurationError) as info:
        Flagport.from_settings()
    assert " ".join(shown.split()) == " ".join(str(info.value).replace(str(tmp_path), "").split())


# -- override_settings: the programmatic layer ---------------------------------------------


def test_overrides_sit_above_files_and_environment_and_below_arguments(tmp_path: Path) -> None:
    root = project(tmp_path)
    write(root / "flagport.toml", 'provider = "growthbook"\n[passall]\na = "file"\nb = "file"\n')
    env = {"FLAGPORT_PROVIDER": "statsig", "FLAGPORT_PASSALL_B": "env", "FLAGPORT_STRICT": "0"}
    table = {"provider": "passall", "strict": True, "passall": {"b": "override", "c": "override"}}
    with override_settings(table, source="the test tool"):
        settings = load_settings(options={"c": "argument"}, cwd=root, environ=env)
        assert settings.provider == "passall"
        assert settings.options == {"a": "file", "b": "override", "c": "argument"}
        assert settings.strict is True
        assert settings.sources["b"] == "the test tool [passall] b"
        assert settings.sources[ALL_OPTIONS].endswith("; the test tool")
        assert load_settings("local", cwd=root, environ=env).provider == "local"
    after = load_settings(cwd=root, environ=env)
    assert (after.provider, after.strict) == ("statsig", False)


def test_nested_overrides_stack_and_unwind(tmp_path: Path) -> None:
    root = project(tmp_path)
    with override_settings({"provider": "passall", "passall": {"a": 1, "b": 1}}):
        with override_settings({"passall": {"b": 2}}):
            assert load_settings(cwd=root, environ={}).options == {"a": 1, "b": 2}
        assert load_settings(cwd=root, environ={}).options == {"a": 1, "b": 1}
    assert load_settings(cwd=root, environ={}).provider == "local"


def test_override_paths_resolve_against_their_base(tmp_path: Path) -> None:
    root = project(tmp_path)
    table = {"provider": "local", "local": {"path": "flags.yaml"}, "events": {"jsonl_path": "e"}}
    with override_settings(table, base=tmp_path / "conf"):
        settings = load_settings(cwd=root, environ={})
    assert settings.options == {"path": str(tmp_path / "conf" / "flags.yaml")}
    assert settings.events == {"jsonl_path": str(tmp_path / "conf" / "e")}
    with override_settings(table):
        assert load_settings(cwd=root, environ={}).options == {"path": "flags.yaml"}


def test_an_override_reaches_clients_built_from_settings_and_is_checked(tmp_path: Path) -> None:
    table = {"provider": "passall", "passall": {"gate_value": False}}
    with override_settings(table), Flagport.from_settings() as fp:
        assert fp.check_gate({"user_id": "1"}, "g") is False
    typo = {"provider": "passall", "passall": {"gate_vlaue": False}}
    where = r"t \[passall\] gate_vlaue at gate_vlaue"
    with (
        override_settings(typo, source="t"),
        pytest.raises(ConfigurationError, match=rf"{where}: unknown option 'gate_vlaue'"),
    ):
        Flagport.from_settings()
    with (
        override_settings({"provder": "passall"}, source="tool"),
        pytest.raises(ConfigurationError, match="tool: unknown top-level setting 'provder'"),
    ):
        load_settings(cwd=project(tmp_path), environ={})


def test_doc_override_settings_example_runs() -> None:
    (code,) = [block for block in _blocks("python") if "override_settings" in block]
    exec(compile(code, str(DOC), "exec", dont_inherit=True), {})


@pytest.mark.parametrize(
    ("table", "close"), [("evnts", "events"), ("locl", "local"), ("stiky", "sticky")]
)
def test_a_table_named_like_a_known_one_is_a_typo(tmp_path: Path, table: str, close: str) -> None:
    # [evnts] was ignored without a word: the events went nowhere the user asked.
    write(tmp_path / "flagport.toml", f'provider = "passall"\n[{table}]\nsinks = ["jsonl"]\n')
    with pytest.raises(ConfigurationError) as info:
        load_settings(cwd=tmp_path, environ={})
    assert str(info.value).startswith(
        f"{tmp_path / 'flagport.toml'}: unknown table [{table}]; did you mean [{close}]?"
    )


def test_a_table_for_a_provider_not_installed_here_is_left_alone(tmp_path: Path) -> None:
    write(tmp_path / "flagport.toml", 'provider = "passall"\n[launchdarkly]\nsdk_key = "k"\n')
    assert load_settings(cwd=tmp_path, environ={}).provider == "passall"


@pytest.mark.parametrize("word", ["ture", "maybe", "2"])
def test_a_strict_setting_that_is_neither_true_nor_false_is_an_error(
    tmp_path: Path, word: str
) -> None:
    # FLAGPORT_STRICT=ture quietly meant false.
    with pytest.raises(ConfigurationError, match=rf"environment FLAGPORT_STRICT: '{word}' is not"):
        load_settings("passall", cwd=tmp_path, environ={"FLAGPORT_STRICT": word})
    write(tmp_path / "flagport.toml", f'strict = "{word}"\n')
    with pytest.raises(ConfigurationError, match=rf"flagport\.toml strict: '{word}' is not true"):
        load_settings("passall", cwd=tmp_path, environ={})


@pytest.mark.parametrize(("word", "value"), [("off", False), ("0", False), ("Yes", True)])
def test_strict_words_keep_their_meaning(tmp_path: Path, word: str, value: bool) -> None:
    settings = load_settings("passall", cwd=tmp_path, environ={"FLAGPORT_STRICT": word})
    assert settings.strict is value


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        ({"provider": 5}, "argument provider: expected a provider name such as 'local'"),
        ({"provider": ["local"]}, "argument provider: expected a provider name"),
        ({"provider": "passall", "strict": "no"}, "argument strict: expected True or False"),
        ({"provider": "passall", "events": "jsonl"}, "argument events: expected a mapping"),
        ({"provider": "passall", "sticky": 3}, "argument sticky: expected a mapping"),
    ],
)
def test_arguments_of_the_wrong_type_are_configuration_errors(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, arguments: dict[str, object], message: str
) -> None:
    # Flagport(provider=5) was AttributeError: 'int' object has no attribute 'upper';
    # strict="no" made a strict client.
    monkeypatch.chdir(tmp_path)
    with pytest.raises(ConfigurationError, match=re.escape(message)):
        Flagport(**arguments)  # type: ignore[arg-type]
    with pytest.raises(ConfigurationError, match="argument strict: expected True or False"):
        Flagport(PassAllProvider(PassAllProvider.Options()), strict="no")  # type: ignore[arg-type]


def test_env_json_nested_too_deep_is_a_configuration_error(tmp_path: Path) -> None:
    deep = "[" * 100_000 + "]" * 100_000
    for var in ("FLAGPORT_PASSALL_BOOTSTRAP", "FLAGPORT_EVENTS_SINKS", "FLAGPORT_OPENTELEMETRY"):
        env = {"FLAGPORT_PROVIDER": "passall", var: deep}
        with pytest.raises(ConfigurationError, match=f"environment {var}: JSON nested too deep"):
            load_settings(cwd=tmp_path, environ=env)


def test_env_value_that_is_not_json_says_why_when_its_type_is_wrong(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("FLAGPORT_PROVIDER", "local")
    monkeypatch.setenv("FLAGPORT_LOCAL_FLAGS", '{"gates": {}')
    with pytest.raises(ConfigurationError) as caught:
        Flagport.from_settings()
    message = str(caught.value)
    assert "environment FLAGPORT_LOCAL_FLAGS (taken as text, not JSON:" in message
    assert "at column 13" in message
    # Text that starts with a brace is still text where text is wanted.
    env = {"FLAGPORT_PROVIDER": "passall", "FLAGPORT_PASSALL_SECRET": "{not json"}
    assert load_settings(cwd=tmp_path, environ=env).options == {"secret": "{not json"}
