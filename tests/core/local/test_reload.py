"""Hot reload: edits go live, bad edits are logged and ignored, swaps are atomic."""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from flagport import Flagport, User
from flagport.providers.local import LocalProvider

USER = User(user_id="user-1", country="DE")

Waiter = Callable[..., bool]  # the conftest's wait_for fixture


def flags(value: bool, rule: str = "all") -> str:
    return f"""\
gates:
  new_checkout:
    rules:
      - id: us
        when: {{country: US}}
      - id: {rule}
        pass_percentage: {100 if value else 0}
"""


def replace(path: Path, text: str) -> None:
    """Write the way deploy tools do: a new file renamed over the old one."""
    tmp = path.with_suffix(".tmp")
    tmp.write_text(text)
    os.replace(tmp, path)


@pytest.fixture
def flags_file(tmp_path: Path) -> Path:
    path = tmp_path / "flags.yaml"
    path.write_text(flags(False))
    return path


@pytest.fixture
def watched(flags_file: Path) -> Iterator[LocalProvider]:
    provider = LocalProvider(
        LocalProvider.Options(path=str(flags_file), watch=True, reload_interval=0.2)
    )
    provider.start()
    yield provider
    provider.shutdown(timeout=2)


def test_in_place_edit_goes_live(
    flags_file: Path, watched: LocalProvider, wait_for: Waiter
) -> None:
    assert watched.check_gate(USER, "new_checkout") is False
    flags_file.write_text(flags(True))
    assert wait_for(lambda: watched.check_gate(USER, "new_checkout"))
    assert watched.reloads >= 1


def test_atomic_replace_goes_live(
    flags_file: Path, watched: LocalProvider, wait_for: Waiter
) -> None:
    replace(flags_file, flags(True))
    assert wait_for(lambda: watched.check_gate(USER, "new_checkout"))
    replace(flags_file, flags(False))
    assert wait_for(lambda: not watched.check_gate(USER, "new_checkout"))


def test_bad_edit_is_logged_with_place_and_last_good_keeps_serving(
    flags_file: Path, watched: LocalProvider, caplog: pytest.LogCaptureFixture, wait_for: Waiter
) -> None:
    caplog.set_level(logging.ERROR, logger="flagport.providers.local")
    replace(flags_file, flags(True))
    assert wait_for(lambda: watched.check_gate(USER, "new_checkout"))
    good = watched.snapshot

    # a typo in the second rule's condition, on line 7
    bad = flags(True).replace("id: all", "id: all\n        when: {plan: {$inn: [pro]}}")
    failures = watched.failed_reloads
    replace(flags_file, bad)
    assert wait_for(lambda: watched.failed_reloads > failures)
    assert watched.snapshot is good
    assert watched.check_gate(USER, "new_checkout") is True
    logged = "\n".join(r.getMessage() for r in caplog.records)
    assert f"{flags_file}:7 at gates.new_checkout.rules[1].when.plan.$inn" in logged
    assert "still serving the previous definitions" in logged
    assert "$inn" in (watched.last_error or "")

    replace(flags_file, flags(False))
    assert wait_for(lambda: not watched.check_gate(USER, "new_checkout"))
    assert watched.last_error is None


def test_start_with_bad_file_recovers_when_fixed(flags_file: Path, wait_for: Waiter) -> None:
    flags_file.write_text("gates: {g: {rules: [{pass_percentage: 500}]}}\n")
    provider = LocalProvider(
        LocalProvider.Options(path=str(flags_file), watch=True, reload_interval=0.2)
    )
    with Flagport(provider, strict=False) as fp:
        assert fp.get_gate(USER, "new_checkout").error_code is not None
        replace(flags_file, flags(True))
        assert wait_for(lambda: fp.check_gate(USER, "new_checkout"))


def test_watcher_thread_lives_between_start_and_shutdown(
    flags_file: Path, wait_for: Waiter
) -> None:
    provider = LocalProvider(LocalProvider.Options(path=str(flags_file), reload_interval=0.2))
    before = {t.name for t in threading.enumerate()}
    provider.start()
    started = [t for t in threading.enumerate() if t.name.startswith("flagport-local-watch")]
    assert started
    assert all(t.daemon for t in started)
    assert provider.stats()["watching"] is True
    provider.shutdown(timeout=2)
    assert wait_for(lambda: not any(t.is_alive() for t in started), timeout=5)
    assert {t.name for t in threading.enumerate()} <= before | {t.name for t in started}


def test_no_watch_means_no_thread(flags_file: Path) -> None:
    provider = LocalProvider(LocalProvider.Options(path=str(flags_file), watch=False))
    provider.start()
    assert provider.stats()["watching"] is False
    flags_file.write_text(flags(True))
    assert provider.check_gate(USER, "new_checkout") is False
    assert provider.reload() is True
    assert provider.check_gate(USER, "new_checkout") is True


# -- atomic swaps under load -------------------------------------------------------------
def version(n: int) -> str:
    """Two alternating versions whose results are recognisable as a whole.

    In even versions the gate passes by rule ``even`` and the experiment's only group
    is ``x`` with value ``even``; in odd versions everything says ``odd``. An
    evaluation mixing two versions would pair a rule or group with the other
    version's value.
    """
    name = "even" if n % 2 == 0 else "odd"
    passes = 100 if n % 2 == 0 else 0
    group = "x" if n % 2 == 0 else "y"
    return f"""\
gates:
  g:
    rules:
      - id: {name}
        pass_percentage: {passes}
experiments:
  e:
    groups:
      - {{name: {group}, weight: 100, value: {{v: {name}, n: {n}}}}}
configs:
  c:
    default: {{v: none}}
    rules:
      - {{id: {name}, value: {{v: {name}}}}}
"""


def test_reloads_under_concurrent_evaluation_are_atomic(tmp_path: Path) -> None:
    path = tmp_path / "flags.yaml"
    path.write_text(version(0))
    provider = LocalProvider(LocalProvider.Options(path=str(path), watch=True, reload_interval=0.1))
    provider.start()
    users = [User(user_id=f"u{i}") for i in range(50)]
    errors: list[str] = []
    evaluations = [0]
    done = threading.Event()

    def reader() -> None:
        count = 0
        while not done.is_set():
            for user in users:
                try:
                    gate = provider.evaluate_gate(user, "g")
                    exp = provider.evaluate_experiment(user, "e")
                    cfg = provider.evaluate_config(user, "c")
                except Exception as exc:  # a reader must never see a failure
                    errors.append(repr(exc))
                    return
                if (gate.rule_id, gate.value) not in {("even", True), ("odd", False)}:
                    errors.append(f"gate {gate}")
                if (exp.group, exp.value["v"]) not in {("x", "even"), ("y", "odd")}:
                    errors.append(f"experiment {exp}")
                if cfg.rule_id != cfg.value["v"]:
                    errors.append(f"config {cfg}")
                count += 1
            # Let the writer in: it does file I/O and would otherwise wait a full
            # switch interval behind each busy reader after every system call.
            time.sleep(0)
        evaluations[0] += count

    readers = [threading.Thread(target=reader) for _ in range(4)]
    for thread in readers:
        thread.start()
    try:
        for n in range(1, 61):
            text = version(n)
            if n % 10 == 0:
                # a torn write: half a file, which must be refused and not served
                path.write_text(text[: len(text) // 2])
                assert provider.reload() is False
            replace(path, text)
            assert provider.reload() is True
            assert provider.evaluate_experiment(users[0], "e").value["n"] == n
    finally:
        done.set()
        for thread in readers:
            thread.join(timeout=30)
        provider.shutdown(timeout=2)
    assert not errors, errors[:5]
    assert evaluations[0] > 0
    assert provider.failed_reloads >= 6


def _child_sees_reload(path: Path, fp: Flagport, wait_for: Waiter) -> int:
    # Runs in the forked child: the client must build its own provider and watcher.
    try:
        if fp.check_gate(USER, "new_checkout") is not False:
            return 3
        stats = fp.provider.stats()
        if not stats["watching"] or stats["pid"] != os.getpid():
            return 4
        replace(path, flags(True))
        return 0 if wait_for(lambda: fp.check_gate(USER, "new_checkout"), timeout=8) else 5
    except BaseException:
        return 6


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs os.fork")
def test_forked_child_gets_its_own_watcher(flags_file: Path, wait_for: Waiter) -> None:
    fp = Flagport(provider="local", path=str(flags_file), reload_interval=0.2)
    assert fp.check_gate(USER, "new_checkout") is False
    parent_provider = fp.provider
    pid = os.fork()
    if pid == 0:  # pragma: no cover - the child's exit code is the assertion
        os._exit(_child_sees_reload(flags_file, fp, wait_for))
    deadline = time.monotonic() + 20
    status = None
    while time.monotonic() < deadline:
        done, status = os.waitpid(pid, os.WNOHANG)
        if done:
            break
        time.sleep(0.05)
    else:
        os.kill(pid, 9)
        os.waitpid(pid, 0)
        pytest.fail("the forked child did not finish")
    assert status is not None
    assert os.waitstatus_to_exitcode(status) == 0
    # the parent keeps its own provider and sees the child's edit through its own watcher
    assert fp.provider is parent_provider
    assert wait_for(lambda: fp.check_gate(USER, "new_checkout"))
    fp.shutdown()


def test_reload_after_shutdown_serves_nothing(flags_file: Path) -> None:
    from flagport import ProviderNotReadyError

    provider = LocalProvider(LocalProvider.Options(path=str(flags_file), watch=True))
    provider.start()
    provider.shutdown(timeout=2)
    flags_file.write_text(flags(True))
    assert provider.reload() is False
    provider.load()
    with pytest.raises(ProviderNotReadyError):
        provider.check_gate(USER, "new_checkout")


def test_client_stats_show_the_provider_state(flags_file: Path) -> None:
    with Flagport(provider="local", path=str(flags_file), watch=False) as fp:
        fp.check_gate(USER, "new_checkout")
        flags_file.write_text("gates: {g: {rules: [{pass_percentage: 500}]}}\n")
        assert fp.provider.reload() is False  # type: ignore[attr-defined]
        state = fp.stats()["provider"]
    assert (state["name"], state["gates"], state["reloads"], state["failed_reloads"]) == (
        "local",
        1,
        0,
        1,
    )
    assert "pass_percentage" in state["last_error"]
    assert state["source"] == str(flags_file)
