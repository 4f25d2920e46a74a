"""The process-wide client on an event loop (an application's lifespan, an async test).

``flagport.setup()`` replacing a client: the client it replaces stops in the
background, the loop never waits for it, and its events are still delivered. The
shortcuts without settings: one warning, as in synchronous code, and never a hang."""

from __future__ import annotations

import asyncio
import json
import logging
import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from child_python import run_python  # tests/support
from slow_to_stop import SlowToStop  # tests/support

import flagport
from flagport import ErrorCode, User
from flagport.provider import ProviderStatus

USER = User(user_id="42")
WAIT = 10.0  # seconds: a bound on waiting for another thread, never an expectation


def test_setup_on_an_event_loop_never_waits_for_the_client_it_replaces(
    no_client: None,
) -> None:
    release = threading.Event()
    first = flagport.setup(SlowToStop(release))
    assert first.check_gate(USER, "g") is True  # started: its shutdown will be slow

    async def replace() -> float:
        began = time.monotonic()
        flagport.setup(provider="passall")
        return time.monotonic() - began

    try:
        took = asyncio.run(replace())
        # Not the provider's WAIT seconds, nor setup()'s own bound of 5 seconds.
        assert took < 1.0, f"setup() blocked the event loop for {took:.1f}s"
        assert first._provider.status is not ProviderStatus.SHUT_DOWN  # still stopping
    finally:
        release.set()
    deadline = time.monotonic() + WAIT
    while first._provider.status is not ProviderStatus.SHUT_DOWN:
        assert time.monotonic() < deadline, "the replaced client never stopped"
        time.sleep(0.01)
    assert first.closed


def test_events_of_a_client_replaced_on_an_event_loop_are_delivered_at_exit(
    tmp_path: Path,
) -> None:
    # The process ends at once after setup(): the replaced client's events still reach
    # its sink (the exit shuts it down, as every live client).
    events = tmp_path / "events.jsonl"
    code = f"""
import asyncio, threading, flagport
from flagport import ErrorCode, Provider, User
from flagport.provider import ProviderOptions
from flagport.results import ConfigResult, ExperimentResult, GateResult

class Slow(Provider):
    name = "slow"
    def __init__(self):
        super().__init__(ProviderOptions())
    def shutdown(self, timeout=5.0):
        threading.Event().wait(0.5)
        super().shutdown(timeout)
    def evaluate_gate(self, user, name, *, expose=True):
        return GateResult(name=name, value=True, provider=self.name)
    def evaluate_experiment(self, user, name, *, expose=True):
        return ExperimentResult(name=name, provider=self.name)
    def evaluate_config(self, user, name, *, expose=True):
        return ConfigResult(name=name, provider=self.name)

async def main():
    flagport.setup(Slow(), events={{"sinks": ["jsonl"], "jsonl_path": {str(events)!r},
                                    "batch_size": 10_000, "flush_interval": 3600}})
    flagport.check_gate(User(user_id="1"), "g")
    for i in range(100):
        flagport.log_event(User(user_id="1"), "tick", i)
    flagport.setup(provider="passall")

asyncio.run(main())
"""
    run_python(code, tmp_path)
    values = [json.loads(line)["value"] for line in events.read_text().splitlines()]
    assert values == [float(i) for i in range(100)]


def test_without_settings_the_shortcuts_on_an_event_loop_warn_once(
    no_settings: Path, caplog: pytest.LogCaptureFixture
) -> None:
    async def evaluate() -> list[flagport.GateResult]:
        return [flagport.get_gate(USER, "new_checkout") for _ in range(3)]

    results = asyncio.run(evaluate())
    assert [r.error_code for r in results] == [ErrorCode.PROVIDER_NOT_READY] * 3
    # Not "still starting ... await fp.start()": there is nothing to start.
    assert all("flagport.setup(" in str(r.error_message) for r in results)
    warned = [
        r.getMessage()
        for r in caplog.records
        if r.name.startswith("flagport") and r.levelno >= logging.WARNING
    ]
    assert len(warned) == 1, warned
    assert "cannot be built from settings" in warned[0]


def test_a_log_handler_evaluating_a_flag_does_not_hang_the_unconfigured_warning(
    tmp_path: Path,
) -> None:
    # A handler that checks a gate (to sample its logs, say) hears the warning that no
    # client could be built: it must get the default, not wait forever for the lock
    # under which that client is built. In a child: a hang would hold the lock for good.
    code = """
import logging, flagport
from flagport import User

class Sampling(logging.Handler):
    def emit(self, record):
        print("handler", flagport.check_gate(User(user_id="1"), "verbose_logs"))

logging.getLogger("flagport").addHandler(Sampling())
print("app", flagport.check_gate(User(user_id="1"), "new_checkout", default=True))
"""
    env = {k: v for k, v in os.environ.items() if not k.startswith("FLAGPORT_")}
    done = subprocess.run(
        [sys.executable, "-c", code],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=WAIT * 3,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines() == ["handler False", "app True"]
