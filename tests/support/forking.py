"""Waiting for a forked child in a test, without hanging the suite if it hangs."""

from __future__ import annotations

import os
import signal
import time

import pytest


def child_exit_code(pid: int, timeout: float = 60.0) -> int:
    """The exit code of the forked child ``pid``; a child still running after ``timeout``
    seconds is killed and the test fails."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        done, status = os.waitpid(pid, os.WNOHANG)
        if done:
            return os.waitstatus_to_exitcode(status)
        time.sleep(0.05)
    os.kill(pid, signal.SIGKILL)
    os.waitpid(pid, 0)
    pytest.fail(f"the forked child did not finish within {timeout:.0f} s")
