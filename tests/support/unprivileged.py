"""Checking what a process without rights may not write, also when the tests run as root.

Root writes into any folder, whatever its mode: a test of "this folder is not writable"
runs its body as ``nobody`` (uid and gid 65534) in a forked child when this process is
root (CI), and in this process otherwise. The folders it writes into come from
:func:`open_folder`: pytest's ``tmp_path`` lies below a folder only its owner may enter,
so ``nobody`` would be refused there for the wrong reason.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import traceback
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from forking import child_exit_code

__all__ = ["as_unprivileged", "open_folder"]

#: ``nobody``/``nogroup`` on Linux.
NOBODY = 65534
_TRACEBACK_LIMIT = 20_000
#: The child's exit code when it could not drop its rights.
_CANNOT_DROP = 3


@contextmanager
def open_folder() -> Iterator[Path]:
    """A fresh folder every user may enter and read (removed afterwards)."""
    folder = Path(tempfile.mkdtemp(prefix="flagport-unprivileged-"))
    try:
        folder.chmod(0o755)
        yield folder
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def _drop_privileges() -> None:
    os.setgroups([])
    os.setgid(NOBODY)
    os.setuid(NOBODY)


def as_unprivileged(body: Callable[[], object], *, closed_cwd: Path | None = None) -> None:
    """Run ``body`` without root's rights: as ``nobody`` in a forked child when this
    process is root, here otherwise. A failure in the child fails the test with the
    child's traceback; a root that cannot drop its rights skips it, saying so.

    ``closed_cwd``: a folder (of this process's user) the child makes its current
    directory and then closes to itself (mode 000), so ``body`` runs where it may not
    look; the body then always runs in a child.
    """
    root = os.geteuid() == 0
    if not root and closed_cwd is None:
        body()
        return
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: never returns into pytest
        code = _CANNOT_DROP
        try:
            os.close(read)
            if closed_cwd is not None:
                os.chdir(closed_cwd)
                closed_cwd.chmod(0)
            if root:
                _drop_privileges()
            code = 1
            body()
            code = 0
        except BaseException:
            os.write(write, traceback.format_exc()[-_TRACEBACK_LIMIT:].encode())
        finally:
            os._exit(code)
    os.close(write)
    with os.fdopen(read, "rb") as pipe:
        code = child_exit_code(pid)
        report = pipe.read().decode(errors="replace").strip()
    if closed_cwd is not None:
        closed_cwd.chmod(0o700)
    if code == _CANNOT_DROP:
        pytest.skip(f"running as root, and a child cannot become uid {NOBODY}: {report}")
    if code:
        pytest.fail(f"as uid {NOBODY} (exit code {code}):\n{report}", pytrace=False)
