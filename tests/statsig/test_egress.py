"""A Statsig provider pointed at custom URLs reaches nothing else, even when its
start-up times out.

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


@pytest.fixture(scope="module")
def isolated() -> None:
    reason = why_not_isolated()
    if reason is not None:
        pytest.skip(f"cannot give a process a network of its own here: {reason}")


@pytest.mark.usefixtures("isolated")
def test_a_start_up_timeout_reaches_no_public_statsig_host(tmp_path: Path) -> None:
    script = Path(__file__).parents[1] / "support" / "statsig_egress.py"
    env = {k: v for k, v in os.environ.items() if not k.startswith("FLAGPORT_")}
    for name in ("https_proxy", "HTTPS_PROXY", "http_proxy", "HTTP_PROXY"):
        env.pop(name, None)
    done = subprocess.run(
        isolated_command([sys.executable, str(script), "3"], tmp_path),
        capture_output=True,
        text=True,
        timeout=120,  # a hang guard
        cwd=tmp_path,
        env=env,
    )
    assert done.returncode == 0, done.stderr
    looked_up = json.loads(done.stdout.strip().splitlines()[-1])
    # Before: the SDK's timeout was reported to statsigapi.net (with the server secret).
    assert looked_up == []
    assert "no definitions within init_timeout_ms=300" in done.stderr
