"""Redirects never carry the env secret to a server the user did not configure.

FeatBit's SDK sends the secret as the ``Authorization`` header of its websocket upgrade
and, cut in two around a timestamp, as the ``token`` query parameter. websocket-client
follows a redirect of the upgrade to any server and sends the same headers there, so
the provider follows one only within the server of ``streaming_url``. The insight
sender (urllib3) drops ``Authorization`` when a redirect leaves the server.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from http import HTTPStatus
from urllib.parse import parse_qs, urlsplit

import pytest
import websocket

from flagport import Flagport, ProviderStatus, User
from flagport_featbit import FeatBitProvider
from flagport_featbit.testing import INSIGHT_PATH, FeatBitLoopback

pytestmark = pytest.mark.timeout(60)

SECRET = "fb-redirect-canary-7Qx2LmZ9wR"
# The loopback servers are not the client: they log the requests they receive.
SERVER_LOGGERS = ("websockets.server",)


@pytest.fixture
def front() -> Iterator[FeatBitLoopback]:
    """The server the provider is configured with."""
    with FeatBitLoopback(env_secret=SECRET) as srv:
        yield srv


@pytest.fixture
def elsewhere() -> Iterator[FeatBitLoopback]:
    """Another server (another port: another origin) that would gladly take the secret."""
    with FeatBitLoopback(env_secret=SECRET) as srv:
        yield srv


def _upgrades(server: FeatBitLoopback) -> list[tuple[str, dict[str, str]]]:
    return [(path, headers) for path, headers in list(server.requests) if "/streaming" in path]


def _tokens(server: FeatBitLoopback) -> list[str]:
    return [
        token
        for path, _ in _upgrades(server)
        for token in parse_qs(urlsplit(path).query).get("token", [])
    ]


def _client_logs(caplog: pytest.LogCaptureFixture) -> str:
    return "\n".join(
        caplog.handler.format(record)
        for record in caplog.records
        if not record.name.startswith(SERVER_LOGGERS)
    )


def _started(server: FeatBitLoopback) -> FeatBitProvider:
    provider = FeatBitProvider.from_options(**server.provider_options(start_wait=0))
    provider.start()
    return provider


@pytest.mark.parametrize(
    "status",
    [HTTPStatus.MOVED_PERMANENTLY, HTTPStatus.FOUND, HTTPStatus.TEMPORARY_REDIRECT],
)
def test_a_redirect_of_the_upgrade_to_another_server_is_refused(
    status: HTTPStatus,
    front: FeatBitLoopback,
    elsewhere: FeatBitLoopback,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    front.redirect_status = status
    front.redirects["/streaming"] = f"{elsewhere.streaming_url}/streaming?type=server"
    provider = _started(front)
    try:
        # Refused like an unreachable server: the SDK tries again after its backoff.
        assert front.wait_for(lambda: bool(elsewhere.requests) or len(_upgrades(front)) >= 2)
        assert elsewhere.requests == []  # not the header, not the token: nothing at all
        assert provider.status is ProviderStatus.NOT_READY
    finally:
        provider.shutdown(timeout=2)
    logs = _client_logs(caplog)
    assert f"redirected the websocket upgrade to another server ({elsewhere.streaming_url})" in (
        logs
    )
    assert SECRET not in logs
    assert all(token not in logs for token in _tokens(front))


@pytest.mark.parametrize("absolute", [True, False], ids=["absolute", "relative"])
def test_a_redirect_within_the_server_is_followed(absolute: bool, front: FeatBitLoopback) -> None:
    moved = "/streaming?type=server&moved=1"
    front.redirects["/streaming"] = (front.streaming_url if absolute else "") + moved
    client = Flagport(provider="featbit", strict=True, **front.provider_options())
    try:
        assert client.provider.status is ProviderStatus.READY
        assert client.check_gate(User(user_id="u-1", country="US"), "new_checkout") is True
    finally:
        client.shutdown(timeout=3)
    path, headers = _upgrades(front)[-1]
    assert path == moved
    assert headers["Authorization"] == SECRET


def test_a_redirect_loop_within_the_server_ends(front: FeatBitLoopback) -> None:
    front.redirects["/streaming"] = f"{front.streaming_url}/streaming/loop"
    front.redirects["/streaming/loop"] = f"{front.streaming_url}/streaming?type=server"
    provider = _started(front)
    try:
        # Each attempt is one upgrade and three redirects followed, then given up.
        assert front.wait_for(lambda: len(_upgrades(front)) >= 8)
        assert provider.status is ProviderStatus.NOT_READY
    finally:
        provider.shutdown(timeout=2)


def test_websocket_trace_logs_neither_the_secret_nor_the_token(
    front: FeatBitLoopback, elsewhere: FeatBitLoopback, caplog: pytest.LogCaptureFixture
) -> None:
    # websocket-client's trace (its documented switch for debugging connections) logs
    # every upgrade request whole: the Authorization header and the token in the URL.
    caplog.set_level(logging.DEBUG)
    front.redirects["/streaming"] = f"{elsewhere.streaming_url}/streaming?type=server"
    websocket.enableTrace(True, handler=logging.NullHandler())
    try:
        provider = _started(front)
        try:
            assert front.wait_for(lambda: bool(elsewhere.requests) or len(_upgrades(front)) >= 2)
        finally:
            provider.shutdown(timeout=2)
    finally:
        websocket.enableTrace(False)
    logs = _client_logs(caplog)
    assert "--- request header ---" in logs  # the trace was on
    tokens = _tokens(front)
    assert tokens
    assert SECRET not in logs
    assert all(token not in logs for token in tokens)


def test_a_redirect_of_insight_posts_to_another_server_drops_the_secret(
    front: FeatBitLoopback, elsewhere: FeatBitLoopback
) -> None:
    # A pin: the SDK posts with urllib3, which removes Authorization when a redirect
    # leaves the server (Retry.remove_headers_on_redirect); the body holds no secret.
    front.redirects[INSIGHT_PATH] = elsewhere.event_url + INSIGHT_PATH
    client = Flagport(provider="featbit", **front.provider_options())
    try:
        client.log_event(User(user_id="u-1"), "purchase", 1.0)
        client.flush(timeout=10)
        assert front.wait_for(
            lambda: any(path == INSIGHT_PATH for path, _ in list(elsewhere.requests))
        )
    finally:
        client.shutdown(timeout=3)
    posts = [headers for path, headers in elsewhere.requests if path == INSIGHT_PATH]
    assert posts
    assert all(SECRET not in f"{name}: {value}" for h in posts for name, value in h.items())
    assert elsewhere.metrics() == []  # refused without the secret
