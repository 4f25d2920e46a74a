"""The migration provider passes on what its sides announce: a side's flags file
rewritten is a change of the migration's definitions."""

from __future__ import annotations

import os
import queue
from pathlib import Path

from flagport import DefinitionsChanged, Flagport, User
from flagport.providers.migration import MigrationProvider

USER = User(user_id="u1")
WAIT = 10.0


def gate(percentage: int) -> str:
    return f"gates:\n  new_checkout:\n    rules: [{{id: all, pass_percentage: {percentage}}}]\n"


def test_a_side_reloading_announces_through_the_migration(tmp_path: Path) -> None:
    old, new = tmp_path / "old.yaml", tmp_path / "new.yaml"
    old.write_text(gate(0))
    new.write_text(gate(0))
    watched = {"provider": "local", "reload_interval": 0.05, "reload_settle": 0}
    provider = MigrationProvider.from_options(
        **{"from": {**watched, "path": str(old)}, "to": {**watched, "path": str(new)}},
        stage="to",
    )
    heard: queue.Queue[DefinitionsChanged] = queue.Queue()
    with Flagport(provider) as fp:
        fp.on_change(heard.put)
        assert fp.check_gate(USER, "new_checkout") is False
        tmp = tmp_path / "new.tmp"
        tmp.write_text(gate(100))
        os.replace(tmp, new)
        assert heard.get(timeout=WAIT) == DefinitionsChanged(
            "migration", frozenset({"new_checkout"})
        )
        assert fp.check_gate(USER, "new_checkout") is True
    sides = list(provider.sides.values())
    for side in sides:
        side.announce_change(None)  # detached with the migration: reaches no one
    assert heard.empty()
