"""The jsonl sink's file check (``flagport._files.why_unwritable``) against paths no
file can have: each is a clear ConfigurationError when the client is built, never an
OSError, and never accepted only to fail at every write."""

from __future__ import annotations

import logging
import os
from pathlib import Path

import pytest

from flagport import ConfigurationError, Flagport, User


def _client(path: Path | str) -> Flagport:
    return Flagport(provider="passall", events={"sinks": ["jsonl"], "jsonl_path": path})


def test_a_name_longer_than_the_system_allows_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError, match="File name too long") as info:
        _client(tmp_path / ("a" * 10_000))
    assert len(str(info.value)) < 500  # the path is shortened, not quoted whole


def test_a_path_longer_than_the_system_allows_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError, match="File name too long"):
        _client(tmp_path.joinpath(*["b" * 200] * 60, "e.jsonl"))


def test_a_symlink_loop_is_refused(tmp_path: Path) -> None:
    (tmp_path / "one").symlink_to(tmp_path / "two")
    (tmp_path / "two").symlink_to(tmp_path / "one")
    for path in (tmp_path / "one", tmp_path / "one" / "e.jsonl"):
        with pytest.raises(ConfigurationError, match="Too many levels of symbolic links"):
            _client(path)


def test_a_nul_character_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError, match="NUL character"):
        _client(f"{tmp_path}/e\0.jsonl")


def test_a_symlink_to_a_file_yet_to_be_made_is_accepted(tmp_path: Path) -> None:
    link = tmp_path / "current.jsonl"
    link.symlink_to(tmp_path / "day-1.jsonl")
    with _client(link) as fp:
        fp.log_event(User(user_id="1"), "signup")
    assert (tmp_path / "day-1.jsonl").read_text().count("\n") == 1


def test_a_device_is_accepted() -> None:
    if not os.path.exists(os.devnull):
        pytest.skip("no null device")
    with _client(os.devnull) as fp:
        fp.log_event(User(user_id="1"), "signup")
    assert fp.stats()["events"]["jsonl"]["delivered"] == 1


@pytest.mark.skipif(not os.path.exists("/dev/full"), reason="no /dev/full on this system")
def test_a_full_device_is_reported_in_one_line_without_a_traceback(
    caplog: pytest.LogCaptureFixture,
) -> None:
    fp = _client("/dev/full")
    fp.log_event(User(user_id="1"), "purchase")
    fp.shutdown(timeout=5)
    problems = [r for r in caplog.records if r.levelno >= logging.WARNING]
    assert problems, "the lost writes were not reported"
    assert all(r.exc_info is None for r in problems), [r.getMessage() for r in problems]
    assert any("No space left on device" in r.getMessage() for r in problems)
