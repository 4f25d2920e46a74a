"""Writing a file so that a reader never sees a part of it.

A provider watching a flags file or a control file may read it at any moment: a file
written in place can be read halfway, and a YAML file cut at a line end is valid YAML
with flags missing. Every file flagport writes for another process to read goes
through :func:`replace_file`.
"""

from __future__ import annotations

import contextlib
import os
import stat
import tempfile
from pathlib import Path

__all__ = ["replace_file", "shared_mode"]


def replace_file(path: Path, data: bytes, *, mode: int | None = None) -> None:
    """Write ``data`` beside ``path``, flush it to disk, and rename it over ``path`` in
    one step: a reader sees the old file or the new one, never a part.

    :param mode: the new file's permissions; by default readable by its owner only.
    :raises OSError: the folder is missing or not writable (nothing is left behind).
    """
    fd, temp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        if mode is not None:
            os.chmod(temp, mode)
        os.replace(temp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temp)
        raise


def shared_mode(path: Path) -> int:
    """The permissions a rewrite of ``path`` keeps: the file's own when it exists, else
    those a new file gets under the process's umask (as ``open(path, "w")`` would)."""
    with contextlib.suppress(OSError):
        return stat.S_IMODE(path.stat().st_mode)
    umask = os.umask(0)
    os.umask(umask)
    return 0o666 & ~umask
