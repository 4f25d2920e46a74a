"""How files reach the watcher: written in parts, or swapped in by a symbolic link the way a
Kubernetes ConfigMap volume is updated."""

from __future__ import annotations

import os
import shutil
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from flagport import User
from flagport.providers.local import LocalProvider
from flagport.providers.local.watcher import FileWatcher, file_signature

USER = User(user_id="user-1")
Waiter = Callable[..., bool]  # the conftest's wait_for fixture


def flags(a: bool, b: bool) -> str:
    return f"""\
gates:
  a:
    rules:
      - pass_percentage: {100 if a else 0}
  b:
    rules:
      - pass_percentage: {100 if b else 0}
"""


@pytest.fixture
def started() -> Iterator[Callable[..., LocalProvider]]:
    made: list[LocalProvider] = []

    def start(path: Path, **options: float) -> LocalProvider:
        provider = LocalProvider(LocalProvider.Options(path=str(path), **options))
        provider.start()
        made.append(provider)
        return provider

    yield start
    for provider in made:
        provider.shutdown(timeout=2)


# -- a writer that pauses halfway ---------------------------------------------------------
@pytest.fixture
def path(tmp_path: Path) -> Path:
    written = tmp_path / "flags.yaml"
    written.write_text(flags(False, False))
    return written


def test_a_file_written_in_two_parts_is_loaded_only_whole(
    path: Path, started: Callable[..., LocalProvider], wait_for: Waiter
) -> None:
    # The settle period is ten times the writer's pause, so a busy machine cannot
    # make the pause look like the end of the write.
    provider = started(path, reload_interval=0.05, reload_settle=4)
    whole = flags(True, True)
    cut = whole.index("  b:")  # at a line end: the first part alone is valid YAML
    with path.open("w") as writer:
        writer.write(whole[:cut])
        writer.flush()
        os.fsync(writer.fileno())
        # The writer pauses; the watcher has seen the first part by now (a change is
        # noticed within reload_interval) and must not serve it.
        for _ in range(20):
            time.sleep(0.02)
            assert "b" in provider.snapshot.gates, "the first half was served"
        writer.write(whole[cut:])
    assert wait_for(lambda: provider.check_gate(USER, "b"), timeout=30)
    assert provider.check_gate(USER, "a") is True
    assert provider.failed_reloads == 0  # nor was the truncated, empty file tried


def test_settle_zero_reloads_without_waiting(
    path: Path, started: Callable[..., LocalProvider], wait_for: Waiter
) -> None:
    provider = started(path, reload_interval=0.05, reload_settle=0)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(flags(True, False))
    os.replace(tmp, path)
    assert wait_for(lambda: provider.check_gate(USER, "a"))


# -- a Kubernetes ConfigMap volume ----------------------------------------------------------
class ConfigMapVolume:
    """A directory laid out and updated the way the kubelet's AtomicWriter does it.

    ::

        ..2026_12_03_08_15_02.1234/flags.yaml   the data of one version
        ..data -> ..2026_12_03_08_15_02.1234    the version being served
        flags.yaml -> ..data/flags.yaml         what the application opens

    An update writes a new timestamped directory, points a ``..data_tmp`` link at it,
    renames ``..data_tmp`` over ``..data`` (the one atomic step) and deletes the old
    directory.
    """

    def __init__(self, root: Path, files: dict[str, str]) -> None:
        self.root = root
        self.root.mkdir()
        self.versions = 0
        self.update(files)

    def update(self, files: dict[str, str]) -> None:
        self.versions += 1
        stamp = time.strftime("..%Y_%m_%d_%H_%M_%S", time.gmtime())
        version = self.root / f"{stamp}.{1233 + self.versions}"
        version.mkdir()
        for name, text in files.items():
            (version / name).write_text(text)
        data = self.root / "..data"
        old = os.readlink(data) if data.is_symlink() else None
        os.symlink(version.name, self.root / "..data_tmp")
        os.rename(self.root / "..data_tmp", data)
        for name in files:
            if not (self.root / name).is_symlink():
                os.symlink(f"..data/{name}", self.root / name)
        if old is not None:
            shutil.rmtree(self.root / old)


@pytest.mark.parametrize(
    "interval",
    [pytest.param(60.0, id="file-system-events"), pytest.param(0.05, id="polling-too")],
)
def test_configmap_updates_by_data_link_swap_are_picked_up(
    tmp_path: Path, started: Callable[..., LocalProvider], wait_for: Waiter, interval: float
) -> None:
    # With a 60 s interval only a file-system event can bring the reload in time.
    volume = ConfigMapVolume(tmp_path / "config", {"flags.yaml": flags(False, False)})
    assert (volume.root / "flags.yaml").resolve().parent.name.startswith("..2026")
    provider = started(volume.root / "flags.yaml", reload_interval=interval, reload_settle=0.05)
    assert provider.check_gate(USER, "a") is False
    for version in range(2, 5):
        expected = version % 2 == 0
        volume.update({"flags.yaml": flags(expected, False)})
        assert wait_for(lambda expected=expected: provider.check_gate(USER, "a") is expected)
    assert provider.failed_reloads == 0
    assert provider.stats()["watching"] is True


def test_polling_follows_a_swapped_link(tmp_path: Path, wait_for: Waiter) -> None:
    # Where file-system events never arrive (and in a forked child), the stat check
    # alone must follow the swap.
    volume = ConfigMapVolume(tmp_path / "config", {"flags.yaml": "a: 1\n"})
    calls: list[int] = []
    watcher = FileWatcher(volume.root / "flags.yaml", lambda: calls.append(1), interval=0.05)
    watcher._seen = file_signature(watcher.path)
    thread = threading.Thread(target=watcher._poll, daemon=True)
    thread.start()
    try:
        volume.update({"flags.yaml": "a: 2\n"})
        assert wait_for(lambda: len(calls) == 1)
        volume.update({"flags.yaml": "a: 3\n"})
        assert wait_for(lambda: len(calls) == 2)
    finally:
        watcher._stop.set()
        thread.join(5)
    assert watcher.path == volume.root / "flags.yaml"  # watched as given, not resolved


def test_a_change_before_the_watch_is_registered_is_still_seen(
    tmp_path: Path, wait_for: Waiter
) -> None:
    # start() takes the loaded version's signature; the file-system watch is registered
    # later, on the watcher's thread. A change in between raises no event: the
    # watcher's own stat check must still find it, long before a 60 s interval.
    path = tmp_path / "flags.yaml"
    path.write_text("a: 1\n")
    calls: list[int] = []
    watcher = FileWatcher(path, lambda: calls.append(1), interval=60.0)
    loaded = (-1, 0, 0)  # the version loaded before the change, as start() recorded it
    watcher.start(seen=loaded)
    try:
        assert wait_for(lambda: len(calls) == 1)
    finally:
        watcher.stop()
