"""``flagport import VENDOR --live`` gives up on a name lookup at its deadline.

``getaddrinfo`` has no timeout: a DNS server that never answers holds the caller for as
long as the resolver's own retries last. The run happens in namespaces of its own
(``tests/support/stalled_dns.py``) whose only name server, on 127.0.0.1, never answers,
through the system resolver: nothing in the process is replaced.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from live_cli import SECRET  # tests/support
from stalled_dns import HOST, isolated_command, why_not_isolated  # tests/support

VENDORS = ["statsig", "growthbook", "featbit"]
TIMEOUT = 0.5
OPTIONS = {"statsig": "init_timeout_ms", "growthbook": "http_timeout", "featbit": "connect_timeout"}


@pytest.fixture(scope="module")
def isolated() -> None:
    reason = why_not_isolated()
    if reason is not None:
        pytest.skip(f"cannot give a process a DNS server of its own here: {reason}")


def _run(vendor: str, tmp_path: Path) -> dict[str, Any]:
    script = Path(__file__).parents[2] / "support" / "stalled_dns.py"
    env = {k: v for k, v in os.environ.items() if not k.startswith("FLAGPORT_")}
    for name in ("https_proxy", "HTTPS_PROXY", "http_proxy", "HTTP_PROXY"):
        env.pop(name, None)
    done = subprocess.run(
        isolated_command([sys.executable, str(script), vendor, str(TIMEOUT)], tmp_path),
        capture_output=True,
        text=True,
        timeout=120,  # a hang guard: the run itself gives up after TIMEOUT
        cwd=tmp_path,
        env=env,
    )
    assert done.returncode == 0, done.stderr
    report: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return report


@pytest.mark.usefixtures("isolated")
@pytest.mark.parametrize("vendor", VENDORS)
def test_a_dns_server_that_never_answers_is_given_up_on_at_the_timeout(
    vendor: str, tmp_path: Path
) -> None:
    report = _run(vendor, tmp_path)
    assert report["queries"] > 0  # the system resolver asked the silent server
    assert report["exit_code"] == 1
    lines = report["stderr"].strip().splitlines()
    assert lines == [
        f"error: cannot resolve {HOST} within {TIMEOUT:g}s (a stalled DNS server?); check "
        f"the host name and the DNS servers, or raise the provider's {OPTIONS[vendor]} option"
    ]
    assert SECRET not in report["stderr"] + report["stdout"]
    assert report["download_threads"] == 0  # not left waiting for the lookup
    assert report["lookups_stalled"] == 1  # the lookup itself was still unanswered
