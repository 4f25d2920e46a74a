"""Redirects never carry the env secret to a server the user did not configure.

FeatBit's SDK sends the secret as the ``Authorization`` header of its websocket upgrade
and, cut in two around a timestamp, as the ``token`` query parameter. websocket-client
follows a redirect of the upgrade to any server and sends the same headers there, so
the provider follows one only within the server of ``streaming_url``, or up to TLS on
its host. Insight posts (urllib3, which would follow one anywhere, dropping the secret
but carrying the users' attributes) follow the same rule.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from http import HTTPStatus
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
import websocket
from tls_relays import TlsTerminator, self_signed  # tests/support

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


def _served_through(front: FeatBitLoopback) -> tuple[str, dict[str, str]]:
    """Serve a gate from ``front`` through whatever redirect it was told to answer; the
    path and headers of the upgrade that was served."""
    client = Flagport(provider="featbit", strict=True, **front.provider_options())
    try:
        assert client.provider.status is ProviderStatus.READY
        assert client.check_gate(User(user_id="u-1", country="US"), "new_checkout") is True
    finally:
        client.shutdown(timeout=3)
    return _upgrades(front)[-1]


@pytest.mark.parametrize("absolute", [True, False], ids=["absolute", "relative"])
def test_a_redirect_within_the_server_is_followed(absolute: bool, front: FeatBitLoopback) -> None:
    moved = "/streaming?type=server&moved=1"
    front.redirects["/streaming"] = (front.streaming_url if absolute else "") + moved
    path, headers = _served_through(front)
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


@pytest.fixture
def tls(front: FeatBitLoopback, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[int]:
    """TLS in front of ``front``'s websocket (the same server, another port), with a
    certificate websocket-client trusts (its own ``WEBSOCKET_CLIENT_CA_BUNDLE``); yields
    the TLS port."""
    certificate, key = self_signed(tmp_path)
    monkeypatch.setenv("WEBSOCKET_CLIENT_CA_BUNDLE", str(certificate))
    for name in ("https_proxy", "HTTPS_PROXY", "http_proxy", "HTTP_PROXY"):
        monkeypatch.delenv(name, raising=False)
    with TlsTerminator(certificate, key, _port(front.streaming_url)) as terminator:
        yield terminator.port


def _port(url: str) -> int:
    port = urlsplit(url).port
    assert port is not None
    return port


# The SDK's own upgrade (it has the token); the redirected one has none, so it is served.
SDK_UPGRADE = "/streaming?token"


def test_a_redirect_up_to_tls_on_the_same_host_is_followed(
    front: FeatBitLoopback, tls: int
) -> None:
    front.redirects[SDK_UPGRADE] = f"wss://127.0.0.1:{tls}/streaming?type=server&tls=1"
    path, headers = _served_through(front)
    assert path == "/streaming?type=server&tls=1"  # through TLS, to the same server
    assert headers["Authorization"] == SECRET


def test_a_redirect_down_from_tls_is_refused_even_on_the_same_host(
    front: FeatBitLoopback, tls: int, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    plain = f"{front.streaming_url}/streaming?type=server&plain=1"
    front.redirects[SDK_UPGRADE] = plain
    provider = FeatBitProvider.from_options(
        **front.provider_options(start_wait=0, streaming_url=f"wss://127.0.0.1:{tls}")
    )
    provider.start()
    try:
        assert front.wait_for(lambda: len(_upgrades(front)) >= 2)
        assert provider.status is ProviderStatus.NOT_READY
    finally:
        provider.shutdown(timeout=2)
    assert all("plain=1" not in path for path, _ in _upgrades(front))  # all through TLS
    logs = _client_logs(caplog)
    assert (
        f"wss://127.0.0.1:{tls} redirected the websocket upgrade to {front.streaming_url}, "
        "from TLS to plain text"
    ) in logs
    assert SECRET not in logs


def _insight_posts(server: FeatBitLoopback) -> list[dict[str, str]]:
    return [h for path, h in list(server.requests) if path.startswith(INSIGHT_PATH)]


def test_insight_posts_are_not_redirected_to_another_server(
    front: FeatBitLoopback, elsewhere: FeatBitLoopback, caplog: pytest.LogCaptureFixture
) -> None:
    # urllib3 would follow it, without the secret but with the users' attributes.
    caplog.set_level(logging.DEBUG)
    front.redirects[INSIGHT_PATH] = elsewhere.event_url + INSIGHT_PATH
    client = Flagport(provider="featbit", **front.provider_options())
    user = User(user_id="u-1", country="US", email="private@example.com")
    try:
        for _ in range(2):
            client.log_event(user, "purchase", 1.0)
            client.flush(timeout=10)
        # The application is served all along.
        assert client.check_gate(user, "new_checkout") is True
        stats = client.provider.stats()
    finally:
        client.shutdown(timeout=3)
    assert len(_insight_posts(front)) >= 2
    assert elsewhere.requests == []  # not a byte: no attribute, no secret
    assert stats["events_delivered"] == 0
    assert stats["events_failed"] >= 2
    warnings = [
        r.getMessage()
        for r in caplog.records
        if r.name == "flagport.featbit" and r.levelno == logging.WARNING
    ]
    refused = [w for w in warnings if "insight post" in w]
    assert refused == [  # once, however many posts are refused
        f"flagport featbit: {front.event_url} redirected the insight post to another server "
        f"({elsewhere.event_url}); not followed, to keep the users' attributes on the server "
        "of event_url. Set event_url to that server if you trust it; 1 insight event(s) not "
        "delivered"
    ]
    assert SECRET not in _client_logs(caplog)


def test_insight_posts_redirected_within_the_server_are_delivered(
    front: FeatBitLoopback,
) -> None:
    front.redirects[INSIGHT_PATH] = INSIGHT_PATH + "?moved=1"  # relative
    client = Flagport(provider="featbit", **front.provider_options())
    try:
        client.log_event(User(user_id="u-1"), "purchase", 1.0)
        client.flush(timeout=10)
        stats = client.provider.stats()
    finally:
        client.shutdown(timeout=3)
    assert [m["eventName"] for m in front.metrics()] == ["purchase"]
    assert stats["events_delivered"] >= 1
    assert stats["events_failed"] == 0
    posts = [path for path, _ in list(front.requests) if path.startswith(INSIGHT_PATH)]
    assert posts[-1] == INSIGHT_PATH + "?moved=1"
