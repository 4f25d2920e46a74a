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


def flags_file(*names: str) -> str:
    return "gates:\n" + "".join(f"  {name}:\n    rules: [{{id: all}}]\n" for name in names)


def test_a_flag_served_by_the_other_side_now_is_announced_and_nothing_else(
    tmp_path: Path,
) -> None:
    old, new = tmp_path / "old.yaml", tmp_path / "new.yaml"
    old.write_text(flags_file("a", "b"))
    new.write_text(flags_file("a", "b"))
    provider = MigrationProvider.from_options(
        **{
            "from": {"provider": "local", "path": str(old)},
            "to": {"provider": "local", "path": str(new)},
        },
        stage="from",
    )
    assert isinstance(provider, MigrationProvider)
    heard: queue.Queue[DefinitionsChanged] = queue.Queue()

    def next_heard() -> frozenset[str] | None:
        return heard.get(timeout=WAIT).flags

    with Flagport(provider) as fp:
        fp.on_change(heard.put)
        fp.check_gate(USER, "a")
        # Each quiet change to "a" is followed by one that moves "b": had the quiet one
        # been announced, "a" would be heard first (or merged into the same change).
        provider.set_stage("a", "shadow")  # the old side still serves
        provider.set_stage("b", "live")
        assert next_heard() == frozenset({"b"})
        provider.set_sample_rate(0.5)  # compares less, serves the same
        provider.set_stage("b", "to")  # the new side served every unit in live already
        provider.set_ramp("b", 30)  # "to" ignores ramps
        provider.set_ramp("a", 30)  # shadow with a ramp: 30 % of units move
        assert next_heard() == frozenset({"a"})
        provider.set_stage(None, "live")  # every flag without a stage of its own
        assert next_heard() is None
    assert heard.empty()


def test_a_control_file_that_moves_a_flag_is_announced_after_start(tmp_path: Path) -> None:
    side = tmp_path / "flags.yaml"
    side.write_text(flags_file("a", "b"))
    control = tmp_path / "control.toml"
    control.write_text('stage = "shadow"\n[stages]\nb = "live"\n')  # read by start(): quiet
    provider = MigrationProvider.from_options(
        **{
            "from": {"provider": "local", "path": str(side)},
            "to": {"provider": "local", "path": str(side)},
        },
        control_file=str(control),
        control_poll_s=0,
    )
    assert isinstance(provider, MigrationProvider)
    heard: queue.Queue[DefinitionsChanged] = queue.Queue()
    with Flagport(provider) as fp:
        fp.on_change(heard.put)
        fp.check_gate(USER, "a")
        control.write_text('stage = "shadow"\n[stages]\na = "live"\nb = "live"\n')
        assert provider.reload() is True
        assert heard.get(timeout=WAIT) == DefinitionsChanged("migration", frozenset({"a"}))
