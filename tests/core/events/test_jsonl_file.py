"""The jsonl sink's file (:mod:`flagport.events.jsonl_file`) against what can be at its
path: a named pipe with or without a reader, a disk or a socket, a full device, and a
file that logrotate moves, deletes or truncates under it. Real files, pipes and devices."""

from __future__ import annotations

import json
import logging
import os
import select
import socket
import stat
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from flagport import ConfigurationError, Flagport, User

USER = User(user_id="7")
#: Well above what a flush takes here; a stalled sink makes the test fail, not hang.
WAIT = 5.0

needs_fifo = pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no named pipes here")


def _client(path: Path | str, **events: object) -> Flagport:
    return Flagport(provider="passall", events={"sinks": ["jsonl"], "jsonl_path": path, **events})


def _names(data: bytes | str) -> list[str]:
    return [json.loads(line)["name"] for line in data.splitlines()]


def _flushed(fp: Flagport) -> dict[str, int]:
    started = time.monotonic()
    assert fp.flush(timeout=WAIT), "the jsonl sink stalled"
    assert time.monotonic() - started < WAIT
    return fp.stats()["events"]["jsonl"]


def _open_reader(fifo: Path) -> int:
    """A reader of ``fifo`` that is there at once (a blocking open waits for a writer)."""
    return os.open(fifo, os.O_RDONLY | os.O_NONBLOCK)


def _release(fifo: Path) -> None:
    """Let a writer stuck opening ``fifo`` (the code before this fix) go on."""
    os.close(_open_reader(fifo))


# -- a named pipe --------------------------------------------------------------------------
@needs_fifo
def test_a_named_pipe_without_a_reader_fails_its_events_without_stalling(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    fifo = tmp_path / "events.pipe"
    os.mkfifo(fifo)
    fp = _client(fifo)
    try:
        with caplog.at_level(logging.WARNING, logger="flagport.events"):
            for _ in range(3):
                fp.log_event(USER, "lost")
                counts = _flushed(fp)
        assert (counts["delivered"], counts["failed"]) == (0, 3)
        warned = [r.getMessage() for r in caplog.records if r.name == "flagport.events"]
        assert len(warned) == 1, warned
        assert f"no process reads the named pipe {str(fifo)!r}" in warned[0]
        assert "counted as failed" in warned[0]
        # A reader comes: the next events reach it.
        reader = _open_reader(fifo)
        try:
            fp.log_event(USER, "read")
            assert _flushed(fp)["delivered"] == 1
            assert _names(os.read(reader, 65536)) == ["read"]
        finally:
            os.close(reader)
    finally:
        _release(fifo)
        fp.shutdown(timeout=1)


class _PipeReader(threading.Thread):
    """Reads a named pipe until its writers close it; ``slow`` reads a little at a time,
    so writers wait for room in the pipe."""

    def __init__(self, fifo: Path, *, slow: bool = False) -> None:
        super().__init__(daemon=True)
        self.fd = _open_reader(fifo)
        self.data = bytearray()
        self.size, self.pause = (4096, 0.0005) if slow else (65536, 0.0)

    def run(self) -> None:
        deadline = time.monotonic() + 60
        try:
            while time.monotonic() < deadline:
                if not select.select([self.fd], [], [], 0.05)[0]:
                    continue
                chunk = os.read(self.fd, self.size)
                if not chunk:  # the writers closed it
                    return
                self.data += chunk
                time.sleep(self.pause)
        finally:
            os.close(self.fd)


@needs_fifo
def test_a_named_pipe_with_a_reader_gets_every_event_in_whole_lines(tmp_path: Path) -> None:
    fifo = tmp_path / "events.pipe"
    os.mkfifo(fifo)
    reader = _PipeReader(fifo)
    reader.start()
    padding = {"note": "x" * 300}
    # Far more than a pipe holds (64 KiB): the sink waits for the reader, it does not fail.
    with _client(fifo, batch_size=500) as fp:
        for i in range(3000):
            fp.log_event(USER, f"e{i}", metadata=padding)
        counts = _flushed(fp)
    reader.join(30)
    assert not reader.is_alive()
    assert (counts["delivered"], counts["failed"]) == (3000, 0)
    assert _names(reader.data) == [f"e{i}" for i in range(3000)]


@needs_fifo
def test_writers_sharing_a_named_pipe_do_not_mix_their_lines(tmp_path: Path) -> None:
    # Two clients stand for forked workers writing to one /dev/stdout pipe: each batch is
    # far larger than a pipe keeps whole, and the reader is slower than the writers.
    fifo = tmp_path / "events.pipe"
    os.mkfifo(fifo)
    reader = _PipeReader(fifo, slow=True)
    reader.start()
    clients = [_client(fifo, batch_size=1000, flush_interval=60) for _ in range(2)]
    for n, fp in enumerate(clients):
        for i in range(1000):
            fp.log_event(USER, f"w{n}-{i}", metadata={"note": "x" * (100 + i % 700)})
    flushing = [threading.Thread(target=fp.flush, args=(WAIT * 4,)) for fp in clients]
    for thread in flushing:
        thread.start()
    for thread in flushing:
        thread.join()
    counts = [fp.stats()["events"]["jsonl"] for fp in clients]
    for fp in clients:
        fp.shutdown(timeout=WAIT)
    reader.join(30)
    assert [c["delivered"] for c in counts] == [1000, 1000]
    names = _names(reader.data)  # a line cut by another writer's is not JSON
    for n in range(2):
        assert [name for name in names if name.startswith(f"w{n}-")] == [
            f"w{n}-{i}" for i in range(1000)
        ]


@needs_fifo
def test_a_named_pipe_whose_reader_left_waits_for_the_next_one(tmp_path: Path) -> None:
    fifo = tmp_path / "events.pipe"
    os.mkfifo(fifo)
    first = _open_reader(fifo)
    with _client(fifo) as fp:
        fp.log_event(USER, "one")
        _flushed(fp)
        assert _names(os.read(first, 65536)) == ["one"]
        os.close(first)
        fp.log_event(USER, "nobody")
        assert _flushed(fp)["failed"] == 1  # a broken pipe, counted
        second = _open_reader(fifo)
        try:
            fp.log_event(USER, "two")
            assert _flushed(fp)["delivered"] == 2
            assert _names(os.read(second, 65536)) == ["two"]
        finally:
            os.close(second)


@needs_fifo
def test_a_file_replaced_by_a_named_pipe_fails_its_events_without_stalling(
    tmp_path: Path,
) -> None:
    path = tmp_path / "events.jsonl"
    fp = _client(path)
    try:
        fp.log_event(USER, "to-file")
        _flushed(fp)
        path.unlink()
        os.mkfifo(path)
        fp.log_event(USER, "to-pipe")
        counts = _flushed(fp)
        assert (counts["delivered"], counts["failed"]) == (1, 1)
    finally:
        _release(path)
        fp.shutdown(timeout=1)


# -- what cannot take lines is refused when the client is built ----------------------------
def _a_block_device() -> str | None:
    with os.scandir("/dev") as entries:
        for entry in entries:
            try:
                if stat.S_ISBLK(entry.stat(follow_symlinks=False).st_mode):
                    return entry.path
            except OSError:
                continue
    return None


@pytest.mark.skipif(not os.path.isdir("/dev"), reason="no /dev here")
def test_a_block_device_is_refused() -> None:
    device = _a_block_device()
    if device is None:
        pytest.skip("no block device in /dev")
    # Appending to a disk overwrites it from its start: never opened, refused.
    with pytest.raises(ConfigurationError) as info:
        _client(device)
    assert str(info.value) == (
        f"argument events['jsonl_path'] {device!r}: is a block device (a disk), which events "
        "would overwrite; give a file's path"
    )


@pytest.fixture
def short_folder() -> Iterator[Path]:
    """A folder whose path fits a Unix socket's address (about 100 characters)."""
    with tempfile.TemporaryDirectory(prefix="fp-", dir="/tmp" if os.name == "posix" else None) as d:
        yield Path(d)


@pytest.mark.skipif(not hasattr(socket, "AF_UNIX"), reason="no Unix sockets here")
def test_a_socket_is_refused(short_folder: Path) -> None:
    path = short_folder / "events.sock"
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as server:
        server.bind(str(path))
        with pytest.raises(ConfigurationError, match="is a socket, which cannot be opened"):
            _client(path)


@pytest.mark.skipif(not hasattr(socket, "AF_UNIX"), reason="no Unix sockets here")
def test_a_file_replaced_by_a_socket_fails_its_events_naming_it(
    short_folder: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path = short_folder / "events.jsonl"
    with _client(path) as fp, socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as server:
        fp.log_event(USER, "to-file")
        _flushed(fp)
        path.unlink()
        server.bind(str(path))
        with caplog.at_level(logging.WARNING, logger="flagport.events"):
            fp.log_event(USER, "to-socket")
            counts = _flushed(fp)
    assert (counts["delivered"], counts["failed"]) == (1, 1)
    assert any("is a socket" in r.getMessage() for r in caplog.records)


@pytest.mark.parametrize("device", ["/dev/null", "/dev/stdout", "/dev/stderr"])
def test_the_devices_people_use_are_accepted(device: str) -> None:
    if not os.path.exists(device):
        pytest.skip(f"no {device} here")
    with _client(device) as fp:
        fp.log_event(USER, "signup")
        assert _flushed(fp)["delivered"] == 1


def test_standard_output_gets_the_lines(capfd: pytest.CaptureFixture[str]) -> None:
    if not os.path.exists("/dev/stdout"):
        pytest.skip("no /dev/stdout here")
    with _client("/dev/stdout") as fp:
        fp.log_event(USER, "signup")
        _flushed(fp)
    assert _names(capfd.readouterr().out) == ["signup"]


@pytest.mark.skipif(not os.path.exists("/dev/full"), reason="no /dev/full here")
def test_a_full_device_fails_each_batch_and_keeps_trying(
    caplog: pytest.LogCaptureFixture,
) -> None:
    with caplog.at_level(logging.WARNING, logger="flagport.events"), _client("/dev/full") as fp:
        for _ in range(2):
            fp.log_event(USER, "purchase")
            counts = _flushed(fp)
        assert (counts["delivered"], counts["failed"]) == (0, 2)
    warned = [r.getMessage() for r in caplog.records if r.name == "flagport.events"]
    assert len(warned) == 1, warned  # once, not at every batch nor again at close
    assert "No space left on device" in warned[0]


# -- rotation ------------------------------------------------------------------------------
def _rotate_by_moving(path: Path, create: bool) -> Path:
    """What logrotate does by default: move the file aside, with ``create`` make a new
    empty one at the path."""
    rotated = path.with_name(path.name + ".1")
    path.rename(rotated)
    if create:
        path.touch()
    return rotated


@pytest.mark.parametrize("create", [True, False], ids=["create", "nocreate"])
def test_events_after_a_rotation_go_to_the_new_file(tmp_path: Path, create: bool) -> None:
    path = tmp_path / "events.jsonl"
    with _client(path) as fp:
        fp.log_event(USER, "before")
        _flushed(fp)
        rotated = _rotate_by_moving(path, create)
        fp.log_event(USER, "after")
        counts = _flushed(fp)
    assert counts["delivered"] == 2
    assert _names(rotated.read_text()) == ["before"]
    assert _names(path.read_text()) == ["after"]


def test_events_after_the_file_was_deleted_go_to_a_new_file(tmp_path: Path) -> None:
    path = tmp_path / "day" / "events.jsonl"
    with _client(path) as fp:
        fp.log_event(USER, "before")
        _flushed(fp)
        path.unlink()
        path.parent.rmdir()  # the folder too: it is made again
        fp.log_event(USER, "after")
        _flushed(fp)
    assert _names(path.read_text()) == ["after"]


def test_events_after_copytruncate_go_to_the_start_of_the_file(tmp_path: Path) -> None:
    path = tmp_path / "events.jsonl"
    with _client(path) as fp:
        fp.log_event(USER, "before")
        _flushed(fp)
        path.with_name("events.jsonl.1").write_bytes(path.read_bytes())
        os.truncate(path, 0)
        fp.log_event(USER, "after")
        _flushed(fp)
    assert path.read_bytes().startswith(b"{")  # appended at the new end, no hole
    assert _names(path.read_text()) == ["after"]


_CUT_BY_A_FILE_SIZE_LIMIT = """
import json, resource, signal
from pathlib import Path
from flagport import Flagport, User

signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # a write past the limit fails instead
path = Path("events.jsonl")
user = User(user_id="1")
fp = Flagport(provider="passall", events={"sinks": ["jsonl"], "jsonl_path": path})
fp.log_event(user, "first")
assert fp.flush(5)
soft, hard = resource.getrlimit(resource.RLIMIT_FSIZE)
# Room for a part of the next line only, as a disk that fills up leaves.
resource.setrlimit(resource.RLIMIT_FSIZE, (path.stat().st_size + 30, hard))
fp.log_event(user, "cut")
assert fp.flush(5)
resource.setrlimit(resource.RLIMIT_FSIZE, (soft, hard))
fp.log_event(user, "after")
assert fp.flush(5)
print(json.dumps(fp.stats()["events"]["jsonl"]))
fp.shutdown()
"""


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs resource limits (POSIX)")
def test_a_line_a_full_disk_cut_is_finished_when_there_is_room(tmp_path: Path) -> None:
    from child_python import run_python  # tests/support

    counts = json.loads(run_python(_CUT_BY_A_FILE_SIZE_LIMIT, tmp_path))
    # "cut" was not confirmed when its batch failed; its end is written before "after",
    # so no reader sees half a line or two lines joined.
    assert (counts["delivered"], counts["failed"]) == (2, 1)
    assert _names((tmp_path / "events.jsonl").read_bytes()) == ["first", "cut", "after"]
