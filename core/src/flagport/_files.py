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

__all__ = ["replace_file", "shared_mode", "why_unwritable"]


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


def why_unwritable(path: Path) -> str | None:
    """Why this process cannot append to a file at ``path`` (None: it can). A missing
    folder is no reason when it can be made: the writer makes it.

    Checked before the first write, so a wrong path is a mistake at start-up rather
    than data lost later. A path no file can have (a NUL character, a name too long,
    a symbolic link loop) is a reason too, never an exception.
    """
    if "\0" in str(path):
        return "holds a NUL character; give a file's path"
    try:
        return _why_unwritable(path)
    except OSError as exc:
        return f"cannot be used ({exc.strerror or exc}); give another path"


def _why_unwritable(path: Path) -> str | None:
    # os.stat rather than Path.exists()/is_dir(), which take a loop or a name too long
    # for a missing file; those raise here. A link to a missing file is missing.
    mode = _mode(path)
    if mode is not None:
        if stat.S_ISDIR(mode):
            return "is a folder; give the path of a file in it"
        if not os.access(path, os.W_OK):
            return "is a file this process may not write; change its permissions or the path"
        return None
    folder = path.parent
    while (folder_mode := _mode(folder)) is None and folder != folder.parent:
        folder = folder.parent
    if folder_mode is None or not stat.S_ISDIR(folder_mode):
        return f"{folder} is a file, not a folder; give a path in a folder"
    if not os.access(folder, os.W_OK | os.X_OK):
        return f"the folder {folder} is not writable by this process; change the path"
    return None


def _mode(path: Path) -> int | None:
    """``path``'s file mode, following links; None when there is nothing there (below
    a file included, which the caller then names)."""
    try:
        return os.stat(path).st_mode
    except (FileNotFoundError, NotADirectoryError):
        return None
