"""docs/flags-file.md and examples/flags.yaml agree with the models."""

from __future__ import annotations

import json
import re
import shlex
import tomllib
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from flagport import Reason, User
from flagport.cli import cli
from flagport.providers.local.loader import load_file, load_mapping
from flagport.providers.local.models import FlagsFile, flags_file_schema
from flagport.providers.local.reference import markdown_reference, splice

ROOT = Path(__file__).parents[3]
DOC = ROOT / "docs" / "flags-file.md"
EXAMPLE = ROOT / "examples" / "flags.yaml"
BLOCK = re.compile(r"```(yaml|toml|json)\n(.*?)```", re.DOTALL)


def test_reference_section_is_generated_from_the_schema() -> None:
    text = DOC.read_text()
    assert splice(text) == text, "run: flagport schema --markdown, and paste it into the doc"


def test_reference_documents_every_key_of_every_model() -> None:
    reference = markdown_reference()
    schema = flags_file_schema()
    for model in [schema, *schema["$defs"].values()]:
        for key in model["properties"]:
            assert f"| `{key}` |" in reference


def test_schema_forbids_unknown_keys_everywhere() -> None:
    schema = flags_file_schema()
    for model in [schema, *schema["$defs"].values()]:
        assert model["additionalProperties"] is False
    assert schema["properties"]["hash"]["anyOf"][0]["enum"] == [
        "statsig",
        "growthbook",
        "growthbook_v1",
        "featbit",
    ]


def _blocks() -> list[tuple[str, str]]:
    return BLOCK.findall(DOC.read_text())


@pytest.mark.parametrize(("language", "text"), _blocks())
def test_every_example_in_the_doc_loads(language: str, text: str) -> None:
    if language == "toml":
        data = tomllib.loads(text)
    elif language == "json":
        data = json.loads(text)
    else:
        data = yaml.safe_load(text)
    snapshot = load_mapping(data)
    assert snapshot.names.gates | snapshot.names.experiments | snapshot.names.configs


def test_doc_examples_cover_the_three_formats() -> None:
    assert {language for language, _ in _blocks()} == {"yaml", "toml", "json"}


def test_example_file_loads_and_behaves_as_its_comments_say() -> None:
    snapshot = load_file(EXAMPLE)
    assert isinstance(snapshot.definitions, FlagsFile)
    us = User(user_id="1", country="US")
    assert snapshot.gates["new_checkout"].evaluate(us).rule_id == "us"
    assert snapshot.gates["new_checkout"].evaluate(User(user_id="7", country="US")).value is False
    assert snapshot.gates["holiday_banner"].evaluate(us).reason is Reason.DISABLED
    staff = User(user_id="5", custom={"email_domain": "example.com"})
    assert snapshot.gates["search_v2"].evaluate(staff).rule_id == "staff"
    launched = snapshot.experiments["onboarding_steps"].evaluate(us)
    assert (launched.group, launched.reason) == ("short", Reason.STATIC)
    stopped = snapshot.experiments["trial_length"].evaluate(us)
    assert (stopped.reason, stopped.get("days", 0)) == (Reason.DISABLED, 14)
    designer = snapshot.experiments["button_color"].evaluate(User(user_id="12"))
    assert designer.group == "blue"
    for i in range(200):
        user = User(user_id=str(i))
        copy = snapshot.experiments["checkout_copy"].evaluate(user).in_experiment
        layout = snapshot.experiments["checkout_layout"].evaluate(user).in_experiment
        assert not (copy and layout)
    eu = snapshot.configs["pricing"].evaluate(User(user_id="1", country="DE"))
    assert eu.get("currency", "") == "EUR"


def test_the_explain_output_on_the_page_is_what_the_command_prints(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The page showed no overrides line: the example file gained overrides after it was
    # pasted, and nothing compared them.
    text = DOC.read_text()
    command = re.search(r"^flagport (explain flags\.yaml gate .*)$", text, re.MULTILINE)
    pasted = re.search(r"```\n(gate new_checkout in flags\.yaml\n.*?)```", text, re.DOTALL)
    assert command is not None
    assert pasted is not None
    (tmp_path / "flags.yaml").write_bytes(EXAMPLE.read_bytes())
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(cli, shlex.split(command.group(1)))
    assert result.exit_code == 0
    assert result.stdout == pasted.group(1)
