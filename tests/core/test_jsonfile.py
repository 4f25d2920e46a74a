from __future__ import annotations

from pathlib import Path

import pytest

from flagport import ConfigurationError
from flagport.jsonfile import read_json_object


def test_reads_a_file_or_copies_a_mapping(tmp_path: Path) -> None:
    path = tmp_path / "boot.json"
    path.write_text('{"features": {"a": [1, 2]}}')
    assert read_json_object(path, what="x bootstrap", option="bootstrap") == (
        str(path),
        {"features": {"a": [1, 2]}},
    )
    given = {"features": {}}
    source, data = read_json_object(given, what="x bootstrap", option="bootstrap (FLAGPORT_X)")
    assert source == "option bootstrap"
    assert data == given
    assert data is not given


def test_invalid_json_names_file_line_and_column(tmp_path: Path) -> None:
    path = tmp_path / "boot.json"
    path.write_text('{\n  "features": {\n    "a": 1,\n  }\n}\n')
    with pytest.raises(ConfigurationError) as info:
        read_json_object(path, what="x bootstrap", option="bootstrap")
    ((location, text),) = info.value.problems
    assert (location.source, location.line) == (str(path), 4)
    assert "column" in text
    assert "fix the syntax" in text


def test_missing_file_and_non_object(tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError, match="cannot read") as info:
        read_json_object(
            tmp_path / "nope.json", what="x bootstrap", option="bootstrap (FLAGPORT_X)"
        )
    assert "FLAGPORT_X" in str(info.value)
    (tmp_path / "list.json").write_text("[1]")
    with pytest.raises(ConfigurationError, match="must be a JSON object"):
        read_json_object(tmp_path / "list.json", what="x bootstrap", option="bootstrap")


def test_hostile_json_is_a_located_configuration_error(tmp_path: Path) -> None:
    # Both escaped json.loads as a ValueError / RecursionError without file or line.
    path = tmp_path / "boot.json"
    path.write_text('{\n"a": ' + "9" * 5000 + "}")
    with pytest.raises(ConfigurationError) as info:
        read_json_object(path, what="x bootstrap", option="bootstrap")
    ((location, text),) = info.value.problems
    assert (location.source, location.line) == (str(path), 2)
    assert "5,000 digits" in text
    path.write_text('{"a":\n' + "[" * 100_000 + "]" * 100_000 + "}")
    with pytest.raises(ConfigurationError, match="nested too deep"):
        read_json_object(path, what="x bootstrap", option="bootstrap")
