"""A FeatBit data sync that sends more than any payload: a message announced at any
length, or fragments that never end. The provider reads a bounded amount, says so once,
keeps its last definitions and stops reading as soon as it is shut down."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Callable, Iterator

import pytest
from hostile_http import endless_fragments, hostile_server, silent, websocket
from polling import eventually  # tests/support

from flagport import Flagport, User

USER = User(user_id="u-1")
SECRET = "fb-hostile-canary-secret-4242"


def _featbit_threads(before: set[threading.Thread]) -> list[str]:
    return [t.name for t in set(threading.enumerate()) - before if "featbit" in t.name]


@pytest.fixture
def small_limit(monkeypatch: pytest.MonkeyPatch) -> int:
    from flagport_featbit import _streaming

    monkeypatch.setattr(_streaming, "MESSAGE_LIMIT", 2**20, raising=False)
    return 2**20


def _big_message(connection: socket.socket) -> None:
    """One text frame of 4 MiB (not JSON), then quiet."""
    size = 4 * 2**20
    connection.sendall(bytes([0x81, 127]) + size.to_bytes(8, "big"))
    connection.sendall(b"x" * size)
    silent(connection)


@pytest.fixture
def client() -> Iterator[Callable[[int], Flagport]]:
    made: list[Flagport] = []

    def make(port: int) -> Flagport:
        fp = Flagport(
            provider="featbit", env_secret=SECRET, streaming_url=f"ws://127.0.0.1:{port}",
            event_url=f"http://127.0.0.1:{port}", start_wait=0.5, connect_timeout=1,
        )  # fmt: skip
        made.append(fp)
        return fp

    yield make
    for fp in made:
        fp.shutdown(timeout=2)


def test_a_message_over_the_limit_drops_the_connection_with_one_warning(
    small_limit: int, client: Callable[[int], Flagport], caplog: pytest.LogCaptureFixture
) -> None:
    with hostile_server(websocket(_big_message)) as server:
        fp = client(server.port)
        assert fp.get_gate(USER, "new_checkout").error_code == "PROVIDER_NOT_READY"
        said = f"sent a data-sync message over {small_limit:,} bytes, the most flagport reads"
        # Before: the library read whatever length the frame header announced (2**40
        # bytes fill the memory), and fragments that never end as well.
        assert eventually(lambda: said in caplog.text)
        assert eventually(lambda: len(server.heads) >= 2)  # the SDK reconnected
    assert [r.getMessage() for r in caplog.records].count(
        next(r.getMessage() for r in caplog.records if said in r.getMessage())
    ) == 1
    assert "check streaming_url" in caplog.text
    assert SECRET not in caplog.text


def test_shutdown_stops_reading_a_message_that_never_ends(
    client: Callable[[int], Flagport],
) -> None:
    before = set(threading.enumerate())
    with hostile_server(websocket(endless_fragments)) as server:
        fp = client(server.port)
        fp.get_gate(USER, "new_checkout")
        started = time.monotonic()
        fp.shutdown(timeout=2)
        assert time.monotonic() - started < 3
        # Before: the SDK's streaming thread kept reading fragments (and growing) for as
        # long as the server sent them.
        assert eventually(lambda: not _featbit_threads(before), timeout=2), _featbit_threads(before)
