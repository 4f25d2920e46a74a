"""The on-disk copy of a URL's flags file, and the lock that elects one poller per host.

``cache_path`` holds the last good file exactly as served (so it can be read, diffed or
validated like any flags file); ``<cache_path>.meta.json`` holds what is needed to
revalidate it (ETag, Last-Modified, the signature) and whether the poller's source is
failing. Both are replaced atomically (written beside, then renamed), the metadata
first: a reader that sees a new file finds its metadata already there.

``<cache_path>.lock`` is held, with filelock, by the one process of the host that polls;
the kernel releases it when that process dies, so another can take over.
"""

from __future__ import annotations

import contextlib
import json
import os
import weakref
from pathlib import Path
from typing import Any

from flagport._documents import read_bounded
from flagport._files import replace_file
from flagport._fork import in_child
from flagport.providers.local.signing import require
from flagport.providers.local.watcher import file_signature

__all__ = ["CacheFiles", "HostLock"]

#: The metadata holds a few validators and a signature: anything larger is not ours.
_MAX_META_BYTES = 64 * 1024


class CacheFiles:
    """The cache file and its metadata beside it.

    :param path: ``cache_path`` (its directory is created when missing).
    """

    def __init__(self, path: str | Path) -> None:
        self.body = Path(os.path.abspath(path))
        self.meta = self.body.with_name(self.body.name + ".meta.json")
        self.lock = self.body.with_name(self.body.name + ".lock")

    def versions(self) -> tuple[object, object]:
        """What identifies the current file and metadata (changes when either is replaced)."""
        return file_signature(self.body), file_signature(self.meta)

    def read(self) -> tuple[bytes, dict[str, Any]] | None:
        """The cached file and its metadata (empty when unreadable), or None when absent.

        Both are read bounded, as any file anyone can edit: a cache replaced by a named
        pipe is absent, not a hang; by ``/dev/zero``, a file too large to load.
        """
        meta = self.read_meta()
        try:
            body = read_bounded(self.body)
        except OSError:
            return None
        return body, meta

    def read_meta(self) -> dict[str, Any]:
        try:
            meta = json.loads(read_bounded(self.meta, _MAX_META_BYTES))
        except (OSError, ValueError, RecursionError):  # unreadable, not JSON, too deep
            return {}
        return meta if isinstance(meta, dict) else {}

    def write(self, body: bytes, meta: dict[str, Any]) -> None:
        """Replace the metadata, then the file, each atomically."""
        self.write_meta(meta)
        _replace(self.body, body)

    def write_meta(self, meta: dict[str, Any]) -> None:
        _replace(self.meta, json.dumps(meta, indent=1).encode())


def _replace(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    replace_file(path, data)


# A child forked while its parent held the lock inherits the lock's descriptor, and with it
# the lock: the kernel would keep it held after the parent died. Each child closes them.
_held_in_this_process: weakref.WeakSet[HostLock] = weakref.WeakSet()


def _forget_inherited_locks() -> None:
    for lock in list(_held_in_this_process):
        lock.forget()
    _held_in_this_process.clear()


in_child(_forget_inherited_locks)


class HostLock:
    """A non-blocking, process-wide file lock: held by the host's one poller."""

    def __init__(self, path: Path) -> None:
        filelock = require("filelock")
        path.parent.mkdir(parents=True, exist_ok=True)
        # Not thread-local: the poller thread takes it, shutdown() on another thread
        # releases it, and a forked child must find the descriptor to close.
        self._lock: Any = filelock.FileLock(str(path), timeout=0, thread_local=False)
        self._timeout: type[Exception] = filelock.Timeout
        self.held = False

    def try_acquire(self) -> bool:
        """Take the lock if no other process holds it; True while this one holds it."""
        if not self.held:
            try:
                self._lock.acquire(timeout=0)
            except self._timeout:
                return False
            self.held = True
            _held_in_this_process.add(self)
        return True

    def release(self) -> None:
        if self.held:
            self.held = False
            _held_in_this_process.discard(self)
            with contextlib.suppress(OSError):
                self._lock.release(force=True)

    def forget(self) -> None:
        """In a forked child: close the inherited descriptor without unlocking (an unlock
        would release the parent's lock too)."""
        self.held = False
        context = getattr(self._lock, "_context", None)
        fd = getattr(context, "lock_file_fd", None)
        if isinstance(fd, int):
            with contextlib.suppress(OSError):
                os.close(fd)
            with contextlib.suppress(AttributeError):
                context.lock_file_fd = None  # type: ignore[union-attr]
