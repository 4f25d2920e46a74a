"""A Statsig provider pointed at custom URLs reaches nothing else, whatever goes wrong.

The SDK runs in namespaces of its own (``tests/support/statsig_egress.py``) whose only
name server records every query and whose network is loopback only: a host the SDK
tried to reach appears by name, and nothing leaves the machine.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from stalled_dns import isolated_command, why_not_isolated  # tests/support

SCRIPT = Path(__file__).parents[1] / "support" / "statsig_egress.py"


@pytest.fixture(scope="module")
def isolated() -> None:
    reason = why_not_isolated()
    if reason is not None:
        pytest.skip(f"cannot give a process a network of its own here: {reason}")


@pytest.mark.usefixtures("isolated")
@pytest.mark.parametrize(
    ("scenario", "seconds"),
    [
        # Beyond the SDK's 10 s request timeout: its timed-out requests are reported too.
        ("timeout", 11),
        ("refused", 3),
        ("malformed", 3),
    ],
)
def test_a_failing_private_server_leaves_every_statsig_host_unasked(
    scenario: str, seconds: float, tmp_path: Path
) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("FLAGPORT_")}
    for name in ("https_proxy", "HTTPS_PROXY", "http_proxy", "HTTP_PROXY"):
        env.pop(name, None)
    done = subprocess.run(
        isolated_command([sys.executable, str(SCRIPT), scenario, str(seconds)], tmp_path),
        capture_output=True,
        text=True,
        timeout=120,  # a hang guard
        cwd=tmp_path,
        env=env,
    )
    assert done.returncode == 0, done.stderr
    seen = json.loads(done.stdout.strip().splitlines()[-1])
    # Before: the SDK reported its errors to statsigapi.net, with the server secret.
    assert seen["looked_up"] == []
    # The SDK did try (its error report), and was stopped before any name was looked up.
    assert seen["kept_from"] == ["statsigapi.net:443"]
    assert seen["leaks"] == []
    assert "secret-egress-canary" not in done.stdout + done.stderr
