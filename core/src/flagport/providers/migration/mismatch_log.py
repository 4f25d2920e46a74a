"""The mismatch log and the keyed unit hashes written to it.

The log is bounded: it rotates once it reaches half its size bound, so the log and its
one rotated copy never exceed it. Units are written as keyed hashes, never as ids.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import threading
import time
import uuid
from collections.abc import Mapping
from pathlib import Path
from typing import IO, Any

__all__ = ["MismatchLog", "UnitHasher", "bounded"]

logger = logging.getLogger("flagport.providers.migration")

_MAX_VALUE_CHARS = 300


class UnitHasher:
    """Keyed hash of a unit id: stable within a deployment, useless without the key.

    :param key: the secret mixed in (option ``hash_salt``).
    """

    def __init__(self, key: str) -> None:
        self._key = hashlib.sha256(key.encode("utf-8")).digest()[:32]

    def __call__(self, unit: str | None) -> str:
        if not unit:
            return ""
        digest = hashlib.blake2b(unit.encode("utf-8"), key=self._key, digest_size=8)
        return digest.hexdigest()


def bounded(value: Any) -> Any:
    """The value itself when short; otherwise its size and a digest."""
    try:
        text = json.dumps(value, sort_keys=True, default=str)
    except (TypeError, ValueError):
        text = repr(value)
    if len(text) <= _MAX_VALUE_CHARS:
        return value
    digest = hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]
    return {"truncated": True, "chars": len(text), "sha256": digest}


class MismatchLog:
    """An append-only JSON-lines file of mismatches and periodic summaries.

    ``{pid}`` in the path is replaced by the process id, so forked workers write
    their own files. Writes are buffered and flushed by :meth:`flush`; the file is
    opened on the first write. When the file reaches half of ``max_bytes`` it
    becomes ``<path>.1`` (replacing the previous one), so both together stay under
    ``max_bytes``.

    :param path: the log file.
    :param max_bytes: the size bound of the file and its rotated copy together.
    """

    def __init__(self, path: str | os.PathLike[str], max_bytes: int = 10_000_000) -> None:
        self.path = Path(str(path).replace("{pid}", str(os.getpid())))
        self.max_bytes = max_bytes
        self.run = uuid.uuid4().hex[:12]
        self.written = 0
        self.rotations = 0
        self.failures = 0
        self._size = 0
        self._fh: IO[str] | None = None
        self._lock = threading.Lock()

    def _open(self) -> IO[str]:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fh = self.path.open("a", encoding="utf-8", buffering=65536)
        self._size = fh.tell()
        return fh

    def write(self, record: Mapping[str, Any]) -> None:
        """Append one record (a ``time`` and the ``run`` id are added). Never raises."""
        line = json.dumps({"time": round(time.time(), 3), "run": self.run, **record}) + "\n"
        size = len(line.encode("utf-8"))
        with self._lock:
            try:
                if self._fh is None:
                    self._fh = self._open()
                if self._size + size > self.max_bytes // 2 and self._size > 0:
                    self._fh.close()
                    os.replace(self.path, self.path.with_name(self.path.name + ".1"))
                    self.rotations += 1
                    self._fh = self._open()
                self._fh.write(line)
                self._size += size
                self.written += 1
            except OSError as exc:
                self.failures += 1
                if self.failures == 1:
                    logger.warning("flagport: mismatch log %s not written: %s", self.path, exc)

    def flush(self) -> None:
        """Push buffered lines to the file."""
        with self._lock:
            if self._fh is not None:
                try:
                    self._fh.flush()
                except OSError:
                    self.failures += 1

    def close(self) -> None:
        """Flush and close; a later write reopens the file."""
        with self._lock:
            if self._fh is not None:
                try:
                    self._fh.close()
                except OSError:
                    self.failures += 1
                self._fh = None

    def stats(self) -> dict[str, Any]:
        return {
            "path": str(self.path),
            "written": self.written,
            "bytes": self._size,
            "rotations": self.rotations,
            "failures": self.failures,
        }
