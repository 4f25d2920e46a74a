"""The jsonl sink's file: appended to without ever waiting for a reader, and followed
to a new file when the old one is moved or deleted.

- **Rotation.** Before each batch the path is checked against the open file, the way
  :class:`logging.handlers.WatchedFileHandler` does: when logrotate (or a person) moved
  or deleted it, the file now at the path is opened (made if missing), so events after a
  rotation land in the new file rather than in the moved one or nowhere.
- **Named pipes.** Opening a FIFO for writing waits for a reader, for ever if none
  comes. The file is opened non-blocking, so a pipe without a reader is an error for
  that batch (counted as failed, logged once) and is tried again at the next one. Once
  a reader has it open, writes block as they do for a file: a slow reader slows this
  sink's thread only. Lines go in writes a pipe keeps whole, so processes sharing one
  pipe (forked workers writing to ``/dev/stdout`` in a container) do not mix their
  lines (any up to ``PIPE_BUF`` bytes).
- **A full disk.** A batch the disk refuses is counted as failed; a line it took only a
  part of is finished first when there is room, so no reader sees half a line, or two
  lines joined, in the file.
- **Kinds of file.** A regular file, a named pipe and a character device
  (``/dev/stdout``, ``/dev/null``, a terminal) take appended lines; a block device (a
  disk would be overwritten from its start) or a socket do not, and are refused when
  the client is built or, if one appears at the path later, at the write.
"""

from __future__ import annotations

import contextlib
import errno
import os
import select
import stat
from collections.abc import Sequence
from pathlib import Path

__all__ = ["WatchedFile", "shown_path", "why_not_appendable"]

#: Characters of a path a message quotes at most.
_SHOWN_PATH = 300

#: Bytes a pipe takes in one piece (POSIX guarantees 512, Linux has 4096).
_PIPE_BUF = getattr(select, "PIPE_BUF", 512)
# Not on every system: O_NONBLOCK and O_NOCTTY are POSIX, O_BINARY Windows-only.
_NONBLOCK = getattr(os, "O_NONBLOCK", 0)
_FLAGS = (
    os.O_WRONLY
    | os.O_APPEND
    | os.O_CREAT
    | _NONBLOCK
    # A terminal given as the path must not become this process's controlling one.
    | getattr(os, "O_NOCTTY", 0)
    | getattr(os, "O_CLOEXEC", 0)
    | getattr(os, "O_BINARY", 0)
)


def shown_path(path: Path) -> str:
    """``path`` quoted for a message: a real path whole, a hostile one (10 000
    characters) cut."""
    text = str(path)
    return repr(text if len(text) <= _SHOWN_PATH else f"{text[: _SHOWN_PATH - 1]}…")


def why_not_appendable(path: Path) -> str | None:
    """Why what is at ``path`` cannot take appended lines (None: it can, or nothing is
    there yet)."""
    mode = _mode(path)  # None: missing, or a reason flagport._files.why_unwritable names
    return None if mode is None else _why_not_lines(mode)


def _why_not_lines(mode: int) -> str | None:
    if stat.S_ISREG(mode) or stat.S_ISFIFO(mode) or stat.S_ISCHR(mode):
        return None
    if stat.S_ISBLK(mode):
        return "is a block device (a disk), which events would overwrite; give a file's path"
    if stat.S_ISSOCK(mode):
        return (
            "is a socket, which cannot be opened as a file; give a file's path, or a named "
            "pipe (mkfifo) for a process that reads the events"
        )
    return "is not a file; give a file's path"


class WatchedFile:
    """A file at ``path`` that lines are appended to, reopened when it is rotated.

    Used by one thread at a time (a sink's worker).
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self._fd: int | None = None
        self._pipe = False
        # The end of a line a write stopped within (a full disk): written first next
        # time, so a reader never sees a line cut or two lines joined.
        self._rest = b""

    def append(self, lines: Sequence[bytes]) -> None:
        """Write ``lines`` (without their line ends) at the end of the file now at the path.

        :raises OSError: it could not be opened or written (the next call tries again).
        """
        fd = self._current()
        if not self._pipe:
            self._write(fd, b"\n".join(lines) + b"\n")
            return
        # A pipe keeps a write whole only up to PIPE_BUF bytes: beyond, another process's
        # lines (forked workers sharing /dev/stdout) can land inside one of these.
        chunk: list[bytes] = []
        size = 0
        for line in lines:
            if chunk and size + len(line) + 1 > _PIPE_BUF:
                self._write(fd, b"".join(chunk))
                chunk, size = [], 0
            chunk += (line, b"\n")
            size += len(line) + 1
        self._write(fd, b"".join(chunk))

    def _write(self, fd: int, data: bytes) -> None:
        data = self._rest + data
        written = 0
        try:
            while written < len(data):
                written += os.write(fd, memoryview(data)[written:])
        except OSError as exc:
            if exc.errno == errno.EPIPE:
                self.close()  # the pipe's reader left: the next batch waits for another
            elif written:
                cut = data[written - 1] != ord("\n")
                self._rest = data[written : data.find(b"\n", written) + 1] if cut else b""
            raise
        self._rest = b""

    def close(self) -> None:
        """Close the file (the next :meth:`append` opens it again)."""
        fd, self._fd = self._fd, None
        self._rest = b""
        if fd is not None:
            os.close(fd)

    def forget(self) -> None:
        """In a forked child: drop the parent's file without touching the parent's."""
        with contextlib.suppress(OSError):
            self.close()  # the child's own copy of the descriptor

    def _current(self) -> int:
        fd = self._fd
        if fd is not None and not self._at_path(fd):
            with contextlib.suppress(OSError):
                self.close()
            fd = None
        if fd is None:
            fd = self._fd = self._open()
        return fd

    def _at_path(self, fd: int) -> bool:
        """Whether the file open as ``fd`` is still the one at the path."""
        try:
            now = os.stat(self.path)
        except OSError:
            return False  # moved or deleted: a new one is made
        held = os.fstat(fd)
        return (now.st_dev, now.st_ino) == (held.st_dev, held.st_ino)

    def _open(self) -> int:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        try:
            fd = os.open(self.path, _FLAGS, 0o666)
        except OSError as exc:
            if exc.errno == errno.ENXIO:  # a pipe without a reader, or a socket
                mode = _mode(self.path)
                if mode is not None and stat.S_ISFIFO(mode):
                    raise OSError(
                        errno.ENXIO,
                        f"no process reads the named pipe {shown_path(self.path)}; its "
                        "events are counted as failed until one does",
                    ) from None
                problem = None if mode is None else _why_not_lines(mode)
                if problem is not None:
                    raise OSError(errno.ENXIO, f"{shown_path(self.path)} {problem}") from None
            raise
        try:
            mode = os.fstat(fd).st_mode
            problem = _why_not_lines(mode)
            if problem is not None:  # appeared at the path after the client was built
                raise OSError(f"{shown_path(self.path)} {problem}")
            if _NONBLOCK:
                # Non-blocking only to open: a reader that is there is waited for.
                os.set_blocking(fd, True)
        except BaseException:
            os.close(fd)
            raise
        self._pipe = stat.S_ISFIFO(mode)
        return fd


def _mode(path: Path) -> int | None:
    try:
        return os.stat(path).st_mode
    except OSError:
        return None
