"""``Flagport.on_change``: a provider's announced changes reach the application's
callbacks, on flagport's own thread, never an evaluation's (``flagport._changes``)."""

from __future__ import annotations

import logging
import multiprocessing
import os
import queue
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from flagless import FlaglessProvider  # tests/support

import flagport
from flagport import DefinitionsChanged, Flagport, User
from flagport._changes import changed_names
from flagport.events.model import Event
from flagport.provider import ProviderOptions

USER = User(user_id="u1")
WAIT = 10.0  # seconds: a bound on waiting for another thread, never an expectation


class Announcer(FlaglessProvider):
    """A provider that knows no flag and announces a change when the test says so."""

    name = "announcer"


class ThirdParty(Announcer):
    """Overrides ``attach`` the way providers written before ``attach_changes`` did."""

    def attach(self, emit: Callable[[Event], None]) -> None:
        super().attach(emit)
        self.attached = True


def announcer(cls: type[Announcer] = Announcer) -> Announcer:
    return cls(ProviderOptions())


class Heard:
    """A callback that records each change and the thread it ran on."""

    def __init__(self) -> None:
        self.changes: queue.Queue[tuple[DefinitionsChanged, str]] = queue.Queue()

    def __call__(self, change: DefinitionsChanged) -> None:
        self.changes.put((change, threading.current_thread().name))

    def next(self) -> DefinitionsChanged:
        return self.changes.get(timeout=WAIT)[0]


def flags_yaml(percentage: int, comment: str = "") -> str:
    return f"""\
{comment}
segments:
  staff: ["1"]
gates:
  new_checkout:
    rules: [{{id: all, pass_percentage: {percentage}}}]
  other:
    rules: [{{id: all, pass_percentage: 100}}]
configs:
  pricing:
    default: {{discount: 0}}
"""


def replace(path: Path, text: str) -> None:
    tmp = path.with_suffix(".tmp")
    tmp.write_text(text)
    os.replace(tmp, path)


def test_a_rewritten_flags_file_reaches_a_callback_registered_before_start(
    tmp_path: Path,
) -> None:
    path = tmp_path / "flags.yaml"
    path.write_text(flags_yaml(0))
    heard = Heard()
    with Flagport(provider="local", path=str(path), reload_interval=0.05, reload_settle=0) as fp:
        subscription = fp.on_change(heard)
        assert fp.check_gate(USER, "new_checkout") is False  # starts the provider
        replace(path, flags_yaml(100))
        change, thread = heard.changes.get(timeout=WAIT)
        assert change == DefinitionsChanged("local", frozenset({"new_checkout"}))
        assert fp.check_gate(USER, "new_checkout") is True  # announced once served
        # Never the thread of an evaluation, nor the watcher's own.
        assert thread == "flagport-on-change"
        assert subscription.active


def test_a_forked_child_hears_its_own_providers_changes(tmp_path: Path) -> None:
    path = tmp_path / "flags.yaml"
    path.write_text(flags_yaml(0))
    ctx = multiprocessing.get_context("fork")
    heard = ctx.Queue()
    with Flagport(provider="local", path=str(path), watch=False) as fp:
        # Registered before start, in the parent, whose dispatcher is running at the fork.
        fp.on_change(lambda change: heard.put((os.getpid(), sorted(change.flags or ()))))
        fp.check_gate(USER, "new_checkout")
        path.write_text(flags_yaml(100))
        assert fp.provider.reload()  # type: ignore[attr-defined]
        assert heard.get(timeout=WAIT) == (os.getpid(), ["new_checkout"])

        def child() -> None:
            done = threading.Event()
            fp.on_change(lambda change: done.set())
            assert fp.check_gate(USER, "new_checkout") is True  # the child's own provider
            path.write_text(flags_yaml(0, comment="# back"))
            assert fp.provider.reload()  # type: ignore[attr-defined]
            assert done.wait(WAIT)

        worker = ctx.Process(target=child)
        worker.start()
        worker.join(WAIT * 2)
        assert worker.exitcode == 0
        assert heard.get(timeout=WAIT) == (worker.pid, ["new_checkout"])
        assert heard.empty()


def test_the_first_load_is_not_a_change(tmp_path: Path) -> None:
    path = tmp_path / "flags.yaml"
    path.write_text(flags_yaml(0))
    heard = Heard()
    with Flagport(provider="local", path=str(path), watch=False) as fp:
        fp.on_change(heard)
        assert fp.check_gate(USER, "new_checkout") is False
        path.write_text(flags_yaml(100))
        assert fp.provider.reload()  # type: ignore[attr-defined]
        # The reload's change is the first (and only) one delivered.
        assert heard.next().flags == {"new_checkout"}
        assert heard.changes.empty()


def test_a_failing_callback_is_logged_and_the_others_still_run(
    caplog: pytest.LogCaptureFixture,
) -> None:
    provider = announcer()
    heard = Heard()

    def broken(change: DefinitionsChanged) -> None:
        raise RuntimeError("the application's bug")

    with Flagport(provider) as fp:
        fp.on_change(broken)
        fp.on_change(heard)
        fp.check_gate(USER, "x")
        provider.announce_change(["x"])  # the provider's thread sees no exception
        assert heard.next() == DefinitionsChanged("announcer", frozenset({"x"}))
    failed = [r for r in caplog.records if "on_change callback" in r.getMessage()]
    assert len(failed) == 1
    assert "broken" in failed[0].getMessage()
    assert failed[0].levelno == logging.ERROR
    assert failed[0].exc_info is not None  # the traceback is kept, not lost


def test_unsubscribe_stops_the_callback() -> None:
    provider = announcer()
    stopped, kept = Heard(), Heard()
    with Flagport(provider) as fp:
        subscription = fp.on_change(stopped)
        fp.on_change(kept)
        fp.check_gate(USER, "x")
        subscription.unsubscribe()
        subscription.unsubscribe()  # twice is fine
        assert not subscription.active
        provider.announce_change(None)
        assert kept.next() == DefinitionsChanged("announcer", None)
        assert stopped.changes.empty()
        assert "cancelled" in repr(subscription)


def test_a_change_naming_no_flag_is_no_change() -> None:
    provider = announcer()
    heard = Heard()
    with Flagport(provider) as fp:
        fp.on_change(heard)
        fp.check_gate(USER, "x")
        provider.announce_change([])  # what a provider's diff finds when nothing moved
        provider.announce_change(["y"])
        assert heard.next() == DefinitionsChanged("announcer", frozenset({"y"}))
    assert heard.changes.empty()


def test_nothing_fires_after_shutdown() -> None:
    provider = announcer()
    heard = Heard()
    fp = Flagport(provider)
    fp.on_change(heard)
    fp.check_gate(USER, "x")
    fp.shutdown()
    provider.announce_change(["x"])  # detached: reaches no one
    fp._changes.deliver(DefinitionsChanged("announcer", None))  # closed: dropped
    late = fp.on_change(heard)
    assert not late.active
    fp._changes.deliver(DefinitionsChanged("announcer", None))
    assert heard.changes.empty()
    assert fp._changes.delivered == 0


def test_a_change_pending_at_shutdown_never_fires() -> None:
    provider = announcer()
    running, release = threading.Event(), threading.Event()
    calls: list[DefinitionsChanged] = []

    def slow(change: DefinitionsChanged) -> None:
        calls.append(change)
        running.set()
        release.wait(WAIT)

    fp = Flagport(provider)
    fp.on_change(slow)
    fp.check_gate(USER, "x")
    provider.announce_change(["a"])
    assert running.wait(WAIT)
    provider.announce_change(["b"])  # pending while the first change is delivered
    fp.shutdown()
    release.set()
    fp._changes._thread.join(WAIT)  # type: ignore[union-attr]
    assert calls == [DefinitionsChanged("announcer", frozenset({"a"}))]


def test_changes_arriving_during_a_slow_callback_are_merged() -> None:
    provider = announcer()
    running, release = threading.Event(), threading.Event()
    calls: queue.Queue[DefinitionsChanged] = queue.Queue()

    def slow(change: DefinitionsChanged) -> None:
        calls.put(change)
        running.set()
        release.wait(WAIT)

    with Flagport(provider) as fp:
        fp.on_change(slow)
        fp.check_gate(USER, "x")
        provider.announce_change(["a"])
        assert running.wait(WAIT)
        provider.announce_change(["b"])
        provider.announce_change(["c"])
        release.set()
        assert calls.get(timeout=WAIT).flags == {"a"}
        assert calls.get(timeout=WAIT).flags == {"b", "c"}  # one pending change, not two
        provider.announce_change(["d"])
        provider.announce_change(None)  # unknown flags: the merge is unknown too
        merged = [calls.get(timeout=WAIT)]
        if merged[0].flags is not None:  # the dispatcher took "d" before None arrived
            merged.append(calls.get(timeout=WAIT))
        assert merged[-1].flags is None


def test_a_provider_overriding_attach_still_announces() -> None:
    provider = announcer(ThirdParty)
    heard = Heard()
    with Flagport(provider) as fp:
        fp.on_change(heard)
        fp.check_gate(USER, "x")
        assert provider.attached  # type: ignore[attr-defined]
        provider.announce_change(("g",))
        assert heard.next() == DefinitionsChanged("announcer", frozenset({"g"}))


def test_on_change_refuses_what_cannot_be_called() -> None:
    with Flagport(announcer()) as fp, pytest.raises(TypeError, match="takes a callable"):
        fp.on_change("not a function")  # type: ignore[arg-type]


def test_without_callbacks_no_thread_is_started() -> None:
    provider = announcer()
    with Flagport(provider) as fp:
        fp.check_gate(USER, "x")
        provider.announce_change(["x"])
        assert fp._changes._thread is None


def test_changed_names_compares_definitions() -> None:
    old: dict[str, Any] = {"a": {"v": 1}, "b": {"v": 2}, "c": 3}
    new: dict[str, Any] = {"a": {"v": 1}, "b": {"v": 3}, "d": None}
    assert changed_names(old, new) == {"b", "c", "d"}
    assert changed_names(old, dict(old)) == set()


def test_merged_unites_flags_and_unknown_wins() -> None:
    a = DefinitionsChanged("p", frozenset({"a"}))
    b = DefinitionsChanged("p", frozenset({"b"}))
    assert b.merged(a).flags == {"a", "b"}
    assert b.merged(None) is b
    assert DefinitionsChanged("p", None).merged(a).flags is None
    assert b.merged(DefinitionsChanged("p", None)).flags is None


def test_the_module_level_on_change_follows_the_process_wide_client(tmp_path: Path) -> None:
    path = tmp_path / "flags.yaml"
    path.write_text(flags_yaml(0))
    heard = Heard()
    flagport.setup(provider="local", path=str(path), reload_interval=0.05, reload_settle=0)
    try:
        subscription = flagport.on_change(heard)
        assert flagport.check_gate(USER, "new_checkout") is False  # starts the provider
        replace(path, flags_yaml(100))
        assert heard.next() == DefinitionsChanged("local", frozenset({"new_checkout"}))
        subscription.unsubscribe()
        assert not subscription.active
    finally:
        flagport.shutdown()
