"""The URL source against a real nginx: its own ETag, Last-Modified and 304 handling.

The fixture starts a private nginx (``tests/support/nginx_server.py``) on a free port of
127.0.0.1, serving a temporary directory; nginx is installed by ``.ci/run``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner
from nginx_server import Nginx, nginx_server  # tests/support
from url_helpers import flags, publish, version  # tests/support
from url_helpers import local_provider as local

from flagport import Flagport
from flagport.cli import cli
from flagport.provider import ProviderStatus

Waiter = Callable[..., bool]


@pytest.fixture
def nginx(tmp_path: Path) -> Iterator[Nginx]:
    with nginx_server(tmp_path / "nginx") as server:
        publish(server.root, "flags.yaml", flags(1))
        yield server


def test_nginx_answers_304_and_the_file_is_compiled_once(nginx: Nginx, wait_for: Waiter) -> None:
    with Flagport(provider="local", url=nginx.url(), poll_interval=0.05, poll_jitter=0) as fp:
        assert version(fp) == 1
        assert wait_for(lambda: nginx.statuses().count(304) >= 3)
        stats = fp.stats()["provider"]["url"]
        assert nginx.statuses()[0] == 200
        assert local(fp).reloads == 1
        assert stats["etag"]  # nginx's, "<mtime>-<size>"
        assert stats["last_modified"].endswith("GMT")
        # A new version (a different size: nginx's ETag is mtime and size, to the second).
        publish(nginx.root, "flags.yaml", flags(22))
        assert wait_for(lambda: version(fp) == 22)
        assert local(fp).reloads == 2


def test_a_signed_file_served_by_nginx(nginx: Nginx, tmp_path: Path, wait_for: Waiter) -> None:
    key = tmp_path / "flags.key"
    made = CliRunner().invoke(cli, ["keygen", str(key)])
    public = made.stdout.strip()
    signed = CliRunner().invoke(cli, ["sign", str(nginx.root / "flags.yaml"), "--key", str(key)])
    assert signed.exit_code == 0, signed.output
    options = {"poll_interval": 0.05, "poll_jitter": 0, "backoff_max": 0.1}
    with Flagport(provider="local", url=nginx.url(), public_key=public, **options) as fp:
        assert version(fp) == 1
        publish(nginx.root, "flags.yaml", flags(666))  # not re-signed
        assert wait_for(lambda: local(fp).status == ProviderStatus.STALE)
        assert version(fp) == 1


def test_nginx_down_at_cold_start_serves_the_cache(nginx: Nginx, tmp_path: Path) -> None:
    cache = tmp_path / "cache" / "flags.yaml"
    with Flagport(provider="local", url=nginx.url(), cache_path=str(cache), watch=False) as fp:
        assert version(fp) == 1
    nginx.stop()
    with Flagport(provider="local", url=nginx.url(), cache_path=str(cache), timeout=1) as fp:
        assert version(fp) == 1
        assert fp.stats()["provider"]["status"] == "STALE"
        assert fp.stats()["provider"]["url"]["served_from"] == "cache"
