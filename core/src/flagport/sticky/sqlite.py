"""Sticky assignments in a SQLite file shared by the processes of a host (stdlib)."""

from __future__ import annotations

import json
import sqlite3
import threading
from collections.abc import Sequence
from pathlib import Path

from flagport.sticky.store import Assignment, StickyStore, Write

__all__ = ["SQLiteStore"]

_SCHEMA = """
CREATE TABLE IF NOT EXISTS flagport_sticky (
    unit TEXT NOT NULL,
    experiment TEXT NOT NULL,
    assignment TEXT NOT NULL,
    PRIMARY KEY (unit, experiment)
) WITHOUT ROWID
"""


class SQLiteStore(StickyStore):
    """Assignments in the SQLite file at ``path``, in WAL mode so that the readers of
    every process never wait for a writer.

    A connection belongs to the process (and thread) that opened it: in a forked child
    the client's stickiness calls :meth:`after_fork_in_child`, and the child opens its
    own on first use, never the parent's.

    :param timeout: seconds a writer waits for another process's write.
    """

    name = "sqlite"

    def __init__(self, path: str | Path, timeout: float = 5.0) -> None:
        self.path = str(path)
        self.timeout = timeout
        self._local = threading.local()
        self._connection()  # a bad path fails at construction, not at the first request

    def _connection(self) -> sqlite3.Connection:
        connection: sqlite3.Connection | None = getattr(self._local, "connection", None)
        if connection is None:
            connection = sqlite3.connect(self.path, timeout=self.timeout, isolation_level=None)
            connection.execute("PRAGMA journal_mode=WAL")
            connection.execute("PRAGMA synchronous=NORMAL")
            connection.execute(_SCHEMA)
            self._local.connection = connection
        return connection

    def load(self, unit: str) -> dict[str, Assignment]:
        rows = self._connection().execute(
            "SELECT experiment, assignment FROM flagport_sticky WHERE unit = ?", (unit,)
        )
        found: dict[str, Assignment] = {}
        for experiment, text in rows:
            assignment = Assignment.from_json(json.loads(text))
            if assignment is not None:
                found[experiment] = assignment
        return found

    def save(self, writes: Sequence[Write]) -> None:
        connection = self._connection()
        with connection:
            connection.execute("BEGIN IMMEDIATE")
            connection.executemany(
                "INSERT OR REPLACE INTO flagport_sticky VALUES (?, ?, ?)",
                [
                    (unit, experiment, json.dumps(assignment.as_json(), separators=(",", ":")))
                    for unit, experiment, assignment in writes
                ],
            )

    def after_fork_in_child(self) -> None:
        # The parent's connections are not ours to use or close.
        self._local = threading.local()

    def close(self) -> None:
        connection = getattr(self._local, "connection", None)
        if connection is not None:
            connection.close()
        self._local = threading.local()

    def __repr__(self) -> str:
        return f"SQLiteStore({self.path!r})"
