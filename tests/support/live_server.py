"""Real servers (gunicorn, uvicorn) on 127.0.0.1 for the framework integrations' tests.

Every wait here is a hang guard: it fails with what it saw, never asserts a duration.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

HANG_GUARD = 90.0  # seconds; far beyond what a working server needs on a loaded machine


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@contextmanager
def serve(command: Sequence[str], cwd: Path, env: dict[str, str], port: int) -> Iterator[str]:
    """Run a server command until the block ends; yields its base URL once it answers."""
    log = cwd / f".server-{port}.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", *command],
            cwd=cwd,
            env={**os.environ, **env},
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    base = f"http://127.0.0.1:{port}"
    try:
        _wait_until_listening(port, process, log)
        yield base
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(30)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
        log.unlink(missing_ok=True)


def _wait_until_listening(port: int, process: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + HANG_GUARD
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"the server exited ({process.returncode}):\n{log.read_text()}")
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.05)
    raise AssertionError(f"the server never listened on {port}:\n{log.read_text()}")


def get_json(url: str, headers: dict[str, str] | None = None) -> Any:
    """One request on a connection of its own (so the kernel may pick any worker)."""
    request = urllib.request.Request(url, headers={"Connection": "close", **(headers or {})})
    with urllib.request.urlopen(request, timeout=30) as response:
        return json.loads(response.read())


def answers_by_worker(url: str, workers: int, expected: object) -> dict[int, object]:
    """Poll ``url`` (a JSON ``{"pid", "value"}``) until each of ``workers`` distinct
    processes has answered and the latest answer of every one is ``expected``.

    :returns: the latest answer of each worker process.
    """
    latest: dict[int, object] = {}
    deadline = time.monotonic() + HANG_GUARD
    while time.monotonic() < deadline:
        try:
            body = get_json(url, {"X-User-Id": "42"})
        except (urllib.error.URLError, ConnectionError):  # a worker restarting: try again
            continue
        latest[body["pid"]] = body["value"]
        if len(latest) >= workers and all(v == expected for v in latest.values()):
            return latest
    raise AssertionError(f"hang guard: workers' latest answers {latest}, waiting for {expected}")
