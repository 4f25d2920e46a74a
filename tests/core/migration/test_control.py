"""Reading the control file."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from flagport import ConfigurationError
from flagport.providers.migration.control import ControlFileReader
from flagport.providers.migration.options import Stage


@pytest.mark.parametrize(
    ("name", "text"),
    [
        ("c.toml", 'stage = "live"\n[ramp]\ngate = 25\n'),
        ("c.json", json.dumps({"stage": "live", "ramp": {"gate": 25}})),
        ("c.yaml", "stage: live\nramp: {gate: 25}\n"),
    ],
)
def test_formats(tmp_path: Path, name: str, text: str) -> None:
    path = tmp_path / name
    path.write_text(text)
    control = ControlFileReader(path).changed()
    assert control is not None
    assert (control.stage, control.ramp, control.stages) == (Stage.LIVE, {"gate": 25.0}, None)


def test_only_changes_are_returned(tmp_path: Path) -> None:
    path = tmp_path / "c.toml"
    reader = ControlFileReader(path)
    assert reader.changed() is None  # not there yet
    path.write_text('stage = "shadow"\n')
    assert reader.changed() is not None
    assert reader.changed() is None  # unchanged
    path.write_text('stage = "to"\n')
    os.utime(path, ns=(1, 1))  # a new stamp even on coarse file-system clocks
    found = reader.changed()
    assert found is not None
    assert found.stage is Stage.TO


def test_errors_name_the_file_and_the_path(tmp_path: Path) -> None:
    path = tmp_path / "c.toml"
    path.write_text('sample_rate = 2\n[ramp]\ngate = 150\n[stages]\ngate = "later"\n')
    with pytest.raises(ConfigurationError) as err:
        ControlFileReader(path).changed()
    text = str(err.value)
    assert f"{path}:1 at sample_rate" in text
    assert f"{path}:2 at ramp" in text
    assert f"{path}:5 at stages.gate" in text
    path.write_text('stagez = "to"\n')
    with pytest.raises(ConfigurationError, match="stagez"):
        ControlFileReader(path).changed()


def test_a_control_file_nested_too_deep_is_a_located_error(tmp_path: Path) -> None:
    # json.loads raised RecursionError, reported as "could not be read (RecursionError)".
    path = tmp_path / "c.json"
    path.write_text('{"stage": "live",\n"ramp": ' + "[" * 100_000 + "]" * 100_000 + "}")
    reader = ControlFileReader(path)
    with pytest.raises(ConfigurationError, match="previous stages stay in force") as err:
        reader.changed()
    ((location, message),) = err.value.problems
    assert (location.source, location.line) == (str(path), 2)
    assert "nested too deep" in message
