from __future__ import annotations

import logging
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from flagport import Flagport, User, hookimpl, observers, plugins


@pytest.fixture
def evaluation_logging(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setenv("FLAGPORT_LOG_EVALUATIONS", "info")
    plugins.reset()
    yield
    monkeypatch.delenv("FLAGPORT_LOG_EVALUATIONS")
    plugins.reset()


def test_environment_switch_logs_structured_records(
    evaluation_logging: None, caplog: pytest.LogCaptureFixture
) -> None:
    with (
        caplog.at_level(logging.INFO, logger="flagport.observe"),
        Flagport(provider="passall") as fp,
    ):
        fp.check_gate(User(user_id="42"), "new_checkout")
        fp.override_experiment("button_color", group="blue")
        fp.get_experiment(User(user_id="42"), "button_color")
        fp.log_event(User(user_id="42", private={"ssn": "1"}), "purchase", 2.0)
    data = [r.flagport for r in caplog.records if r.name == "flagport.observe"]  # type: ignore[attr-defined]
    evaluations = [d for d in data if "flag" in d]
    assert evaluations[0] == {
        "kind": "gate",
        "flag": "new_checkout",
        "user_id": "42",
        "value": True,
        "reason": "STATIC",
        "rule_id": None,
        "provider": "passall",
        "error_code": None,
    }
    second = evaluations[1]
    assert (second["kind"], second["value"], second["reason"]) == ("experiment", "blue", "OVERRIDE")
    events = [d for d in data if "name" in d]
    assert [(e["kind"], e["name"]) for e in events] == [
        ("exposure", "button_color"),
        ("custom", "purchase"),
    ]
    assert "ssn" not in str(events)


def test_off_by_default(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("FLAGPORT_LOG_EVALUATIONS", raising=False)
    plugins.reset()
    try:
        assert plugins.get_plugin_manager().get_plugin("flagport.observers.logging") is None
    finally:
        plugins.reset()


def test_enable_logging_registers_the_observer_in_code(caplog: pytest.LogCaptureFixture) -> None:
    observer = plugins.enable_logging(logging.INFO)
    try:
        pm = plugins.get_plugin_manager()
        assert pm.get_plugin(observers.PLUGIN_NAME) is observer
        with (
            caplog.at_level(logging.INFO, logger="flagport.observe"),
            Flagport(provider="passall") as fp,
        ):
            fp.check_gate(User(user_id="42"), "new_checkout")
        assert [r.getMessage() for r in caplog.records if r.name == "flagport.observe"] == [
            "gate new_checkout = True (STATIC)"
        ]
    finally:
        plugins.unregister_plugin(observer)
    assert plugins.get_plugin_manager().get_plugin(observers.PLUGIN_NAME) is None


def test_enable_logging_from_its_old_module_warns() -> None:
    with pytest.warns(DeprecationWarning, match=r"flagport\.plugins"):
        enable = observers.enable_logging  # type: ignore[attr-defined]
    assert enable is plugins.enable_logging


def test_the_logging_observer_is_registered_through_the_observer_hook(
    evaluation_logging: None,
) -> None:
    # The built-in module contributes it through flagport_register_observers, the hook a
    # third-party plugin uses for an observer a setting turns on.
    pm = plugins.get_plugin_manager()
    assert pm.get_plugin("flagport.observers") is observers
    assert [i.plugin_name for i in pm.hook.flagport_register_observers.get_hookimpls()] == [
        "flagport.observers"
    ]
    assert isinstance(pm.get_plugin(observers.PLUGIN_NAME), observers.LoggingObserver)


class _Counter:
    def __init__(self) -> None:
        self.kinds: list[str] = []

    @hookimpl
    def flagport_after_evaluation(self, user: User, result: object, kind: str) -> None:
        self.kinds.append(kind)


class _SwitchedObserverPlugin:
    def __init__(self) -> None:
        self.observer = _Counter()

    @hookimpl
    def flagport_register_observers(self, register: Any) -> None:
        register(self.observer, name="test-counter")


def test_a_plugin_registers_an_observer_through_the_hook() -> None:
    plugin = _SwitchedObserverPlugin()
    plugins.register_plugin(plugin, name="switched")
    try:
        plugins.reset()  # the hook is called when the manager is built
        assert plugins.get_plugin_manager().get_plugin("test-counter") is plugin.observer
        with Flagport(provider="passall") as fp:
            fp.check_gate(User(user_id="42"), "new_checkout")
        assert plugin.observer.kinds == ["gate"]
    finally:
        plugins.unregister_plugin(plugin)
        plugins.reset()
    assert plugins.get_plugin_manager().get_plugin("test-counter") is None


def test_enable_logging_replaces_the_observer_the_environment_switch_registered(
    evaluation_logging: None,
) -> None:
    # Before, the second registration under the same name raised ValueError.
    observer = plugins.enable_logging(logging.WARNING)
    try:
        assert plugins.get_plugin_manager().get_plugin(observers.PLUGIN_NAME) is observer
        plugins.reset()  # the switch is read again; the observer set in code stays
        assert plugins.get_plugin_manager().get_plugin(observers.PLUGIN_NAME) is observer
    finally:
        plugins.unregister_plugin(observer)


_EVALUATE = """
from flagport import Flagport, User
with Flagport(provider="passall") as fp:
    fp.check_gate(User(user_id="42"), "new_checkout")
"""


def _child(code: str, switch: str, tmp_path: Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("FLAGPORT_")}
    env["FLAGPORT_LOG_EVALUATIONS"] = switch
    return subprocess.run(
        [sys.executable, "-c", code],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )


@pytest.mark.parametrize("switch", ["1", "info"])
def test_the_switch_shows_records_on_stderr_when_logging_is_not_configured(
    switch: str, tmp_path: Path
) -> None:
    # Before: nothing at all (the root logger's WARNING level and no handler).
    done = _child(_EVALUATE, switch, tmp_path)
    level = "DEBUG" if switch == "1" else "INFO"
    assert (done.stdout, done.stderr) == (
        "",
        f"{level} flagport.observe: gate new_checkout = True (STATIC)\n",
    )


def test_an_application_that_configured_logging_gets_each_record_once(tmp_path: Path) -> None:
    code = "import logging; logging.basicConfig(format='app: %(message)s')\n" + _EVALUATE
    done = _child(code, "1", tmp_path)
    assert done.stderr == "app: gate new_checkout = True (STATIC)\n"


def test_a_level_the_application_set_for_the_logger_is_kept(tmp_path: Path) -> None:
    code = "import logging; logging.getLogger('flagport.observe').setLevel('ERROR')\n" + _EVALUATE
    assert _child(code, "1", tmp_path).stderr == ""


def test_enable_logging_in_code_shows_records_too(tmp_path: Path) -> None:
    code = "import flagport.plugins; flagport.plugins.enable_logging(20)\n" + _EVALUATE
    done = _child(code, "0", tmp_path)
    assert done.stderr == "INFO flagport.observe: gate new_checkout = True (STATIC)\n"
