"""A real nginx on a free 127.0.0.1 port, serving a directory, for the URL source's tests.

nginx computes its own ETag and Last-Modified and answers ``If-None-Match`` /
``If-Modified-Since`` with 304 itself: the tests check flagport against a static server
as deployed, not against our idea of one. Each instance runs as its own master process
with a configuration, logs and temporary directories of its own (never the system
service). ``.ci/run`` installs nginx when missing; it lives in /usr/sbin on Debian,
which is not on every PATH.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

_CONFIG = """
daemon off;
master_process on;
worker_processes 1;
{user}
pid {work}/nginx.pid;
error_log {work}/error.log warn;
events {{ worker_connections 64; }}
http {{
    log_format counts '$status $uri';
    access_log {work}/access.log counts;
    client_body_temp_path {work}/body;
    proxy_temp_path {work}/proxy;
    fastcgi_temp_path {work}/fastcgi;
    uwsgi_temp_path {work}/uwsgi;
    scgi_temp_path {work}/scgi;
    types {{ text/plain yaml yml json toml sig; }}
    server {{
        listen 127.0.0.1:{port};
        root {root};
        etag on;
    }}
}}
"""


def find_nginx() -> str | None:
    """The nginx binary: on PATH, or in /usr/sbin where Debian puts it."""
    return shutil.which("nginx") or shutil.which("nginx", path="/usr/sbin:/usr/local/sbin")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


class Nginx:
    """One running nginx; ``root`` is the directory it serves."""

    def __init__(self, binary: str, work: Path) -> None:
        self.binary = binary
        self.work = work
        self.root = work / "www"
        self.root.mkdir(parents=True, exist_ok=True)
        self.port = 0
        self.process: subprocess.Popen[bytes] | None = None

    def url(self, path: str = "/flags.yaml") -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def statuses(self, path: str = "/flags.yaml") -> list[int]:
        """The status of every request for ``path``, from nginx's access log."""
        log = self.work / "access.log"
        if not log.exists():
            return []
        found = []
        for line in log.read_text().splitlines():
            status, _, uri = line.partition(" ")
            if uri == path:
                found.append(int(status))
        return found

    def start(self) -> None:
        # Running as root, nginx's workers would switch to "nobody", who cannot read a
        # test's private temporary directory: keep them as the user running the tests.
        user = "user root;" if os.geteuid() == 0 else ""
        for attempt in range(5):
            self.port = _free_port()
            config = self.work / "nginx.conf"
            config.write_text(
                _CONFIG.format(user=user, work=self.work, port=self.port, root=self.root)
            )
            self.process = subprocess.Popen(
                [self.binary, "-p", str(self.work), "-c", str(config), "-e", "stderr"],
                stdout=subprocess.DEVNULL,
                stderr=subprocess.PIPE,
            )
            if self._accepting():
                return
            self.stop()
            if attempt == 4:
                raise RuntimeError(f"nginx did not start: {(self.work / 'error.log')}")

    def _accepting(self) -> bool:
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            if self.process is not None and self.process.poll() is not None:
                return False  # exited: the port was taken, or the configuration refused
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.5):
                    return True
            except OSError:
                time.sleep(0.02)
        return False

    def stop(self) -> None:
        process, self.process = self.process, None
        if process is None:
            return
        process.terminate()  # SIGTERM: nginx's fast shutdown, workers included
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(10)
        if process.stderr is not None:
            process.stderr.close()


@contextmanager
def nginx_server(work: Path) -> Iterator[Nginx]:
    """Start nginx serving ``work / "www"``; stop it afterwards.

    :raises RuntimeError: nginx is not installed (``.ci/run`` installs it).
    """
    binary = find_nginx()
    if binary is None:
        raise RuntimeError("nginx is not installed: apt-get install nginx-light (.ci/run does)")
    server = Nginx(binary, work)
    server.start()
    try:
        yield server
    finally:
        server.stop()
