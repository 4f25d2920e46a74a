"""A failed reload is visible in ``stats()``: counted, its error kept (located, bounded) and
its time, whatever made it fail."""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from flagport import ConfigurationError, Flagport, User
from flagport.providers.local import LocalProvider

USER = User(user_id="user-1")
GOOD = "gates:\n  g:\n    rules:\n      - pass_percentage: 100\n"
Waiter = Callable[..., bool]  # the conftest's wait_for fixture

# Files that fail to load: a problem the loader locates, and one that escaped it as a
# TypeError ($type with a list) before the condition compiler checked it.
BAD_FILES = {
    "located": "gates:\n  g:\n    rules:\n      - pass_percentage: 500\n",
    "unhashable_type_name": "gates:\n  g:\n    rules:\n      - when: {a: {$type: [x]}}\n",
}


def replace(path: Path, text: str) -> None:
    tmp = path.with_suffix(".tmp")
    tmp.write_text(text)
    os.replace(tmp, path)


def provider_state(fp: Flagport) -> dict[str, Any]:
    state: dict[str, Any] = fp.stats()["provider"]
    return state


@pytest.mark.parametrize("bad", list(BAD_FILES), ids=list(BAD_FILES))
def test_a_failed_hot_reload_is_counted_with_its_error_and_time(
    tmp_path: Path, bad: str, wait_for: Waiter
) -> None:
    path = tmp_path / "flags.yaml"
    path.write_text(GOOD)
    options = {"reload_interval": 0.05, "reload_settle": 0.05}
    with Flagport(provider="local", path=str(path), strict=False, **options) as fp:
        assert fp.check_gate(USER, "g") is True
        before = time.time()
        replace(path, BAD_FILES[bad])
        assert wait_for(lambda: provider_state(fp)["failed_reloads"] == 1)
        state = provider_state(fp)
        assert state["last_error"].startswith(f"{path}:")
        assert state["last_error_at"] >= before
        assert fp.check_gate(USER, "g") is True  # the last good definitions keep serving
        failed_at = state["last_error_at"]

        replace(path, GOOD.replace("100", "0"))
        assert wait_for(lambda: provider_state(fp)["reloads"] == 1)
        state = provider_state(fp)
        # The error is over; that one happened, and when, stays visible.
        assert (state["failed_reloads"], state["last_error"]) == (1, None)
        assert state["last_error_at"] == failed_at
        assert fp.check_gate(USER, "g") is False


def test_an_internal_error_is_counted_located_and_without_its_message(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    # A bug in flagport raising from the compiler must not escape reload() uncounted,
    # and its message (which may quote the file's values) is not kept.
    path = tmp_path / "flags.yaml"
    path.write_text(GOOD)
    provider = LocalProvider(LocalProvider.Options(path=str(path), watch=False))
    provider.start()

    def broken_build(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("value canary-4f2a from the file")

    monkeypatch.setattr("flagport.providers.local.provider.build", broken_build)
    with caplog.at_level(logging.INFO, logger="flagport.providers.local"):
        assert provider.reload() is False
    stats = provider.stats()
    assert stats["failed_reloads"] == 1
    assert stats["last_error"] == (
        f"{path}: internal error while loading the flags file (RuntimeError); "
        "please report it with the traceback logged at DEBUG level"
    )
    assert provider.check_gate(USER, "g") is True
    assert "canary-4f2a" not in caplog.text
    assert not any(record.exc_info for record in caplog.records)

    caplog.clear()
    with caplog.at_level(logging.DEBUG, logger="flagport.providers.local"):
        assert provider.reload() is False
    assert any(record.exc_info for record in caplog.records)  # the traceback, for a report
    assert provider.stats()["failed_reloads"] == 2
    provider.shutdown()


def test_last_error_is_bounded_and_the_log_has_every_problem(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path = tmp_path / "flags.yaml"
    path.write_text(GOOD)
    provider = LocalProvider(LocalProvider.Options(path=str(path), watch=False))
    provider.start()
    path.write_text(
        "gates:\n" + "".join(f"  g{i}:\n    rules: [{{pass_percentage: 500}}]\n" for i in range(40))
    )
    with caplog.at_level(logging.ERROR, logger="flagport.providers.local"):
        assert provider.reload() is False
    error = provider.stats()["last_error"]
    assert error.startswith(f"{path}: 40 problems")
    assert len(error.splitlines()) == 12
    assert error.splitlines()[-1] == "  ... and 30 more (flagport validate lists all)"
    assert "gates.g39" in caplog.text
    provider.shutdown()


def test_last_error_keeps_ten_problems_whatever_their_text_holds(tmp_path: Path) -> None:
    # It was cut at eleven lines of text: a path with a newline in it (every problem's
    # location shows it) halved the problems kept and miscounted the rest.
    folder = tmp_path / "two\nlines"
    folder.mkdir()
    path = folder / "flags.yaml"
    path.write_text(
        "gates:\n" + "".join(f"  g{i}:\n    rules: [{{pass_percentage: 500}}]\n" for i in range(6))
    )
    provider = LocalProvider(LocalProvider.Options(path=str(path), watch=False))
    with pytest.raises(ConfigurationError):
        provider.start()
    error = provider.stats()["last_error"]
    assert "more (flagport validate lists all)" not in error
    assert all(f"gates.g{i}" in error for i in range(6))


def test_a_failed_start_records_when(tmp_path: Path) -> None:
    path = tmp_path / "flags.yaml"
    path.write_text(BAD_FILES["located"])
    provider = LocalProvider(LocalProvider.Options(path=str(path), watch=False))
    before = time.time()
    with pytest.raises(Exception, match="pass_percentage"):
        provider.start()
    stats = provider.stats()
    assert "pass_percentage" in stats["last_error"]
    assert stats["last_error_at"] >= before
    assert stats["failed_reloads"] == 0  # a start is not a reload
