"""The jsonl sink checks its file when the client is built, not at the first flush."""

from __future__ import annotations

from pathlib import Path

import pytest
from unprivileged import as_unprivileged, open_folder  # tests/support

from flagport import ConfigurationError, Flagport, User


def _client(path: Path) -> Flagport:
    return Flagport(provider="passall", events={"sinks": ["jsonl"], "jsonl_path": path})


def test_a_folder_is_refused_at_construction(tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError) as info:
        _client(tmp_path)
    assert str(info.value) == (
        f"argument events['jsonl_path'] {str(tmp_path)!r}: is a folder; give the path of a "
        "file in it"
    )


def test_a_path_below_a_file_is_refused_at_construction(tmp_path: Path) -> None:
    (tmp_path / "events").write_text("")
    with pytest.raises(ConfigurationError, match=r"events is a file, not a folder"):
        _client(tmp_path / "events" / "day" / "e.jsonl")


def test_a_folder_this_process_may_not_write_is_refused() -> None:
    with open_folder() as parent:
        parent.joinpath("ro").mkdir(mode=0o555)

        def construct() -> None:
            with pytest.raises(ConfigurationError, match=r"ro is not writable by this process"):
                _client(parent / "ro" / "e.jsonl")

        as_unprivileged(construct)  # root writes any folder


def test_a_missing_folder_is_made_at_the_first_write(tmp_path: Path) -> None:
    path = tmp_path / "new" / "day" / "e.jsonl"
    with _client(path) as fp:
        fp.log_event(User(user_id="1"), "signup")
    assert path.read_text().count("\n") == 1
    assert fp.stats()["events"]["jsonl"]["delivered"] == 1
