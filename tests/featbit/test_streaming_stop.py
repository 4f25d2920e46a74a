"""FeatBit's data sync stops when closed, whenever the close lands.

websocket-client's ``run_forever`` used to undo a ``close()`` made before it ran (it sets
``keep_running``) and then waited in ``select()`` without a timeout: the SDK's
``Streaming.stop()`` landing between building its app and running it (a shutdown right
after a start, or a restart) left a connected streaming thread behind for good.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator

import pytest
import websocket

from flagport_featbit._streaming import _KeyStaysHomeApp
from flagport_featbit.testing import FeatBitLoopback

pytestmark = pytest.mark.timeout(60)


@pytest.fixture
def server() -> Iterator[FeatBitLoopback]:
    with FeatBitLoopback() as srv:
        yield srv


def _app(server: FeatBitLoopback) -> websocket.WebSocketApp:
    app = websocket.WebSocketApp(
        f"{server.streaming_url}/streaming?type=server",
        header={"Authorization": server.env_secret},
    )
    app.__class__ = _KeyStaysHomeApp  # as the SDK's streaming gets it (KeyStaysHomeStreaming)
    return app


def _running(app: websocket.WebSocketApp) -> threading.Thread:
    runner = threading.Thread(target=app.run_forever, name="test-streaming", daemon=True)
    runner.start()
    return runner


def test_an_app_closed_before_it_runs_never_connects(server: FeatBitLoopback) -> None:
    app = _app(server)
    app.close()
    runner = _running(app)
    runner.join(3)
    assert not runner.is_alive()
    assert server.requests == []  # not even an upgrade


def test_an_app_closed_while_connected_stops_within_its_wake_up(server: FeatBitLoopback) -> None:
    app = _app(server)
    runner = _running(app)
    deadline = time.monotonic() + 5
    while server.connections == 0 and time.monotonic() < deadline:
        time.sleep(0.02)
    assert server.connections == 1
    app.close()
    runner.join(3)
    assert not runner.is_alive()
