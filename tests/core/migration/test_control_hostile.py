"""Hostile edits of the migration control file, read while the application runs: each
is bounded, refused with its place, logged once, and the previous stages stay in force;
the next good edit is picked up."""

from __future__ import annotations

import logging
import os
from pathlib import Path

import pytest

from flagport.providers.migration.control import ControlFileReader
from flagport.providers.migration.options import Stage


def _laughs(levels: int = 9) -> str:
    """The "billion laughs": nine levels of nine aliases, 9**9 strings if ever expanded
    (flagport's reader shares an alias's node instead)."""
    lines = ['a0: &a0 ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
    for level in range(1, levels + 1):
        lines.append(f"a{level}: &a{level} [" + ", ".join([f"*a{level - 1}"] * 9) + "]")
    return "\n".join(lines) + f"\nstage: live\nramp: {{gate: 25}}\nlaughs: *a{levels}\n"


def _then_a_good_edit_is_read(reader: ControlFileReader, path: Path) -> None:
    if path.is_symlink() or path.exists():
        path.unlink()
    path.write_text("stage: live\nramp: {gate: 50}\n")
    control = reader.read()
    assert control is not None
    assert (control.stage, control.ramp) == (Stage.LIVE, {"gate": 50.0})
    assert reader.error is None


def _refused_once(
    reader: ControlFileReader, caplog: pytest.LogCaptureFixture, *needles: str
) -> None:
    caplog.set_level(logging.ERROR, logger="flagport")
    assert reader.read() is None  # the previous stages stay in force
    assert reader.read() is None  # unchanged: not read, not logged again
    assert reader.error is not None
    for needle in needles:
        assert needle in reader.error
    assert "previous stages stay in force" in reader.error
    assert len([r for r in caplog.records if str(reader.path) in r.getMessage()]) == 1


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs named pipes")
def test_a_named_pipe_is_refused_without_waiting_for_a_writer(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path = tmp_path / "control.yaml"
    os.mkfifo(path)  # opening it for reading would wait for a writer, for ever
    reader = ControlFileReader(path)
    _refused_once(reader, caplog, "named pipe", str(path))
    _then_a_good_edit_is_read(reader, path)


@pytest.mark.skipif(not Path("/dev/zero").exists(), reason="needs /dev/zero")
def test_a_symlink_to_dev_zero_is_read_bounded(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path = tmp_path / "control.yaml"
    path.symlink_to("/dev/zero")
    reader = ControlFileReader(path)
    _refused_once(reader, caplog, "larger than 64 MiB")
    _then_a_good_edit_is_read(reader, path)


@pytest.mark.parametrize(
    ("text", "needle"),
    [
        (_laughs(), ":13 at laughs"),
        ("stage: live\nramp: " + "[" * 100_000 + "]" * 100_000 + "\n", ":2:"),
        ('{"stage": "live", "ramp": ' + "[" * 100_000 + "]" * 100_000 + "}", "nest"),
    ],
    ids=["billion-laughs", "yaml-100k-deep", "json-100k-deep"],
)
def test_a_hostile_edit_is_refused_with_its_place(
    text: str, needle: str, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    suffix = ".json" if text.startswith("{") else ".yaml"
    path = tmp_path / f"control{suffix}"
    path.write_text(text)
    reader = ControlFileReader(path)
    _refused_once(reader, caplog, needle, str(path))
    path = path.with_suffix(".yaml")
    reader.path = path
    _then_a_good_edit_is_read(reader, path)
