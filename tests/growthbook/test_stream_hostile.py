"""A GrowthBook stream (server-sent events) that floods, breaks or sends garbage: the
provider keeps serving its last good definitions, downloads at a bounded rate, reopens
a broken stream and leaves no thread behind."""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Callable, Iterator

import pytest
from hostile_http import HostileServer, hostile_server
from polling import eventually  # tests/support

from flagport import Flagport, User
from flagport_growthbook.testing import scenario_payload

USER = User(user_id="u-1", country="US")
KEY = "sdk-stream-canary-4242"
BODY = json.dumps(scenario_payload()).encode()


def _for_a_while(connection: socket.socket, piece: bytes, seconds: float = 10.0) -> None:
    stop = time.monotonic() + seconds
    while time.monotonic() < stop:
        connection.sendall(piece)


def _streaming(then: Callable[[socket.socket], None]) -> Callable[[socket.socket, bytes], None]:
    """The features download answered with the scenario, the stream with ``then``."""

    def script(connection: socket.socket, head: bytes) -> None:
        if b" /api/features/" in head.split(b"\r\n", 1)[0]:
            connection.sendall(
                b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: "
                + str(len(BODY)).encode()
                + b"\r\n\r\n"
                + BODY
            )
            return
        connection.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\n\r\n")
        then(connection)

    return script


def _requests(server: HostileServer, path: bytes) -> int:
    return sum(1 for head in list(server.heads) if b" " + path in head.split(b"\r\n", 1)[0])


@pytest.fixture
def client() -> Iterator[Callable[[HostileServer], Flagport]]:
    made: list[Flagport] = []
    before = set(threading.enumerate())

    def make(server: HostileServer) -> Flagport:
        fp = Flagport(
            provider="growthbook", client_key=KEY, api_host=server.url, streaming=True,
            refresh_interval=0, http_timeout=1, streaming_reconnect_delay=1,
        )  # fmt: skip
        made.append(fp)
        assert fp.check_gate(USER, "new_checkout") is True
        return fp

    yield make
    for fp in made:
        fp.shutdown(timeout=2)
    assert eventually(
        lambda: not [
            t for t in set(threading.enumerate()) - before
            if t.name.startswith("flagport") or "_run_sse_channel" in t.name
        ]
    )  # fmt: skip


def test_a_line_too_long_for_the_sdk_is_one_warning_and_the_stream_is_reopened(
    client: Callable[[HostileServer], Flagport],
    caplog: pytest.LogCaptureFixture,
    capfd: pytest.CaptureFixture[str],
) -> None:
    line = b"event: features\ndata: " + b"x" * 2**20  # over aiohttp's 512 KiB per line
    with hostile_server(_streaming(lambda c: c.sendall(line))) as server:
        fp = client(server)
        # Before: the SDK's stream thread died with a traceback on stderr, the stream
        # looked alive for ever and was never reopened.
        assert eventually(lambda: _requests(server, b"/sub/") >= 3)
        assert fp.check_gate(USER, "new_checkout") is True
        assert _requests(server, b"/api/features/") >= 2  # caught up after each break
    broke = [r.getMessage() for r in caplog.records if "stream from" in r.getMessage()]
    assert len(broke) == 1, broke
    assert f"the stream from {server.url} broke (LineTooLong:" in broke[0]
    assert "Traceback" not in capfd.readouterr().err
    assert KEY not in caplog.text


def test_a_flood_of_change_events_costs_a_download_a_second(
    client: Callable[[HostileServer], Flagport],
) -> None:
    flood = b"event: features-updated\n\n" * 1000
    with hostile_server(_streaming(lambda c: _for_a_while(c, flood))) as server:
        fp = client(server)
        assert eventually(lambda: fp.provider.stats()["sse_events"] > 10_000)
        time.sleep(2)
        downloads = _requests(server, b"/api/features/")
        assert 2 <= downloads <= 6  # before: one per event (thousands)
        # The same payload each time: not rebuilt (the server sends no ETag).
        assert fp.provider.reloads == 1


def test_garbage_features_events_keep_the_last_good_definitions(
    client: Callable[[HostileServer], Flagport], caplog: pytest.LogCaptureFixture
) -> None:
    events = [b"not json", b"[" * 100_000, b"[1]", b'{"features": {"new_checkout": 5}}']
    events.append(b'{"features": {}, "savedGroups": "ab"}')

    def garbage(connection: socket.socket) -> None:
        for data in events:
            connection.sendall(b"event: features\ndata: " + data + b"\n\n")
        time.sleep(10)

    with hostile_server(_streaming(garbage)) as server:
        fp = client(server)
        assert eventually(lambda: fp.provider.stats()["sse_events"] == len(events))
        assert fp.check_gate(USER, "new_checkout") is True
        assert fp.provider.stats()["streaming_active"] is True
    assert "features.new_checkout: a feature must be an object" in caplog.text
    assert "savedGroups: must be an object" in caplog.text
