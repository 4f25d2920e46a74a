"""A DNS server that never answers, used by a process through the system resolver.

The system resolver (glibc's ``getaddrinfo``) takes its name servers from
``/etc/resolv.conf`` only. :func:`isolated_command` runs a command in namespaces of its
own (``unshare``: a user namespace, a mount namespace where a ``resolv.conf`` naming
``127.0.0.1`` is bound over ``/etc/resolv.conf``, and a network namespace whose
loopback is the only interface), so nothing of the machine changes and no query leaves
it. Run as a script there (``python stalled_dns.py VENDOR TIMEOUT``), this module
listens on ``127.0.0.1:53`` without ever answering, runs ``flagport import VENDOR
--live`` against :data:`HOST` and prints what happened as JSON.
"""

from __future__ import annotations

import json
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Sequence
from pathlib import Path

#: A name in no hosts file: its lookup goes to the DNS server.
HOST = "flags.stalled-dns.test"
#: The resolver waits this long per query: far beyond any timeout the tests set.
_RESOLV_CONF = "nameserver 127.0.0.1\noptions timeout:30 attempts:1\n"
_SETUP = 'mount --bind "$0" /etc/resolv.conf && ip link set lo up && exec "$@"'


def isolated_command(argv: Sequence[str], directory: Path) -> list[str]:
    """``argv`` in namespaces of its own where the only name server is 127.0.0.1."""
    conf = directory / "resolv.conf"
    conf.write_text(_RESOLV_CONF)
    unshare = ["unshare", "--user", "--map-root-user", "--mount", "--net"]
    return [*unshare, "sh", "-c", _SETUP, str(conf), *argv]


def why_not_isolated() -> str | None:
    """Why :func:`isolated_command` cannot run here (None: it can)."""
    if not Path("/etc/resolv.conf").exists():
        return "no /etc/resolv.conf to stand in for"
    for tool in ("unshare", "ip", "mount"):
        if shutil.which(tool) is None:
            return f"no {tool} command"
    with tempfile.TemporaryDirectory() as directory:
        trial = subprocess.run(
            isolated_command(["true"], Path(directory)), capture_output=True, timeout=30
        )
    if trial.returncode:
        return f"unshare refused: {trial.stderr.decode(errors='replace').strip()}"
    return None


def silent_dns() -> list[bytes]:
    """Listen on 127.0.0.1:53 and record each query, never answering one."""
    server = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    server.bind(("127.0.0.1", 53))
    queries: list[bytes] = []

    def serve() -> None:
        while True:
            queries.append(server.recv(4096))

    threading.Thread(target=serve, name="silent-dns", daemon=True).start()
    return queries


def query_name(packet: bytes) -> str:
    """The name a DNS query packet asks about (its first question)."""
    labels, at = [], 12  # after the header
    while packet[at]:
        size = packet[at]
        labels.append(packet[at + 1 : at + 1 + size].decode("ascii", "replace"))
        at += 1 + size
    return ".".join(labels)


def _threads(name: str) -> int:
    return sum(1 for thread in threading.enumerate() if thread.name == name)


def main(vendor: str, timeout: float) -> None:
    from live_cli import run_live  # tests/support

    queries = silent_dns()
    with tempfile.TemporaryDirectory() as directory:
        result = run_live(vendor, f"{HOST}:8080", Path(directory), timeout)
    stop = time.monotonic() + 5.0  # a hang guard, not a measure
    while _threads("flagport-live-download") and time.monotonic() < stop:
        time.sleep(0.02)
    print(
        json.dumps(
            {
                "exit_code": result.exit_code,
                "stderr": result.stderr,
                "stdout": result.stdout,
                "queries": len(queries),
                "download_threads": _threads("flagport-live-download"),
                # Still waiting for an answer: the command did not outlast the lookup.
                "lookups_stalled": _threads("flagport-live-resolve"),
            }
        )
    )


if __name__ == "__main__":
    main(sys.argv[1], float(sys.argv[2]))
