"""Statsig's ID-list protocol, served by the loopback server (:mod:`flagport_statsig.testing`)."""

from __future__ import annotations

import threading
from collections.abc import Sequence
from typing import Any

from flagport.providers.local.conditions.segments import statsig_id_hash

__all__ = ["ID_LIST_FILES", "IdLists"]

ID_LIST_FILES = "/id_list_files/"


class IdLists:
    """ID lists as Statsig serves them, for :class:`StatsigLoopbackServer`.

    The SDK POSTs the lookup (``get_id_lists``) and gets, per list, ``name``, ``size``
    (bytes), ``url``, ``creationTime`` and ``fileID``; it then GETs the list file with
    ``Range: bytes=<what it has>-``. A file is lines ``+<hashed id>`` (add) and
    ``-<hashed id>`` (remove), appended to as the list changes; a new ``fileID`` (or a
    later ``creationTime``) makes the SDK download the file from the start.
    """

    def __init__(self, lock: threading.Lock) -> None:
        self._lock = lock
        self._lists: dict[str, dict[str, Any]] = {}
        self._files: dict[str, bytearray] = {}

    def replace(self, name: str, ids: Sequence[str]) -> None:
        """A new file for list ``name`` holding ``ids`` (plain; stored hashed)."""
        with self._lock:
            number = len(self._files)
            file_id = f"{name}-{number}"
            self._files[file_id] = bytearray()
            self._lists[name] = {"fileID": file_id, "creationTime": 1_700_000_000_000 + number}
        self.change(name, add=ids)

    def change(self, name: str, *, add: Sequence[str] = (), remove: Sequence[str] = ()) -> None:
        """Append ``+id`` lines for ``add`` and ``-id`` lines for ``remove``."""
        lines = [f"+{statsig_id_hash(i)}\n" for i in add]
        lines += [f"-{statsig_id_hash(i)}\n" for i in remove]
        with self._lock:
            self._files[self._lists[name]["fileID"]] += "".join(lines).encode()

    def members(self) -> dict[str, list[str]]:
        """Each list's hashed ids now (what ``import_statsig`` takes as ``id_lists``)."""
        with self._lock:
            files = {name: bytes(self._files[meta["fileID"]]) for name, meta in self._lists.items()}
        found: dict[str, list[str]] = {}
        for name, data in files.items():
            members: dict[str, None] = {}
            for line in data.decode().splitlines():
                if line.startswith("+"):
                    members[line[1:]] = None
                elif line.startswith("-"):
                    members.pop(line[1:], None)
            found[name] = sorted(members)
        return found

    def manifest(self, files_url: str) -> dict[str, Any]:
        """The lookup's answer: each list's metadata."""
        with self._lock:
            return {
                name: {
                    "name": name,
                    "size": len(self._files[meta["fileID"]]),
                    "url": f"{files_url}{meta['fileID']}",
                    "creationTime": meta["creationTime"],
                    "fileID": meta["fileID"],
                }
                for name, meta in self._lists.items()
            }

    def file(self, file_id: str) -> bytes | None:
        with self._lock:
            data = self._files.get(file_id)
            return None if data is None else bytes(data)
