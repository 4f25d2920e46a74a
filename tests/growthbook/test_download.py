"""The features download against servers that misbehave: it ends within ``http_timeout``,
reads a bounded amount, leaves no thread behind and says what went wrong, where, and
which option to check, never with the client key."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Callable, Iterator

import pytest
from hostile_http import (
    HostileServer,
    answer,
    drip_body,
    drip_head,
    gzip_bomb,
    hostile_server,
    redirect,
)

from flagport import Flagport, User
from flagport_growthbook.testing import GrowthBookLoopback, scenario_payload

USER = User(user_id="u-1", country="US")
KEY = "sdk-hostile-canary-4242"


def _flood(connection: socket.socket, head: bytes) -> None:
    """A 200 whose JSON string never ends, sent as fast as the client reads."""
    connection.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n\r\n")
    connection.sendall(b'{"features": {"a": {"defaultValue": "')
    chunk = b"x" * 65536
    stop = time.monotonic() + 20
    while time.monotonic() < stop:
        connection.sendall(chunk)


@pytest.fixture
def server() -> Iterator[HostileServer]:
    with hostile_server() as srv:
        yield srv


def _threads(before: set[threading.Thread]) -> list[str]:
    return [t.name for t in set(threading.enumerate()) - before if t.name.startswith("flagport")]


def _run(url: str, caplog: pytest.LogCaptureFixture, timeout: float = 1.0) -> str:
    """Start a provider on ``url``, shut it down after its first download's failure was
    reported; the failure's words."""
    before = set(threading.enumerate())
    fp = Flagport(
        provider="growthbook", client_key=KEY, api_host=url, init_timeout=0.2,
        http_timeout=timeout, retry_interval=0.1,
    )  # fmt: skip
    started = time.monotonic()
    assert fp.get_gate(USER, "new_checkout").error_code == "PROVIDER_NOT_READY"
    deadline = time.monotonic() + timeout + 5
    while not _failures(caplog) and time.monotonic() < deadline:
        time.sleep(0.02)
    fp.shutdown(timeout=1)
    assert time.monotonic() - started < timeout + 5
    # The sync thread is not left reading from a server it gave up on.
    deadline = time.monotonic() + timeout + 1
    while _threads(before) and time.monotonic() < deadline:
        time.sleep(0.02)
    assert not _threads(before)
    failures = _failures(caplog)
    assert failures, caplog.text
    assert KEY not in caplog.text
    return failures[0]


def _failures(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [
        r.getMessage()
        for r in caplog.records
        if r.name == "flagport.growthbook" and "no features from" not in r.getMessage()
    ]


@pytest.mark.parametrize("script", [drip_body, drip_head], ids=["body", "head"])
def test_a_dripping_server_is_given_up_on_at_http_timeout(
    server: HostileServer, script: Callable[[], object], caplog: pytest.LogCaptureFixture
) -> None:
    server.script = script()  # type: ignore[assignment]
    words = _run(server.url, caplog)
    assert words.endswith(
        f"{server.url} did not send the features within 1s (a stalled or dripping server?); "
        "check api_host, or raise http_timeout"
    )


@pytest.mark.parametrize("script", [gzip_bomb(2**30), _flood], ids=["gzip-bomb", "endless-body"])
def test_a_body_past_the_limit_is_not_read(
    server: HostileServer, script: object, caplog: pytest.LogCaptureFixture
) -> None:
    import resource

    server.script = script  # type: ignore[assignment]
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    words = _run(server.url, caplog, timeout=10)
    grown = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - peak  # KiB
    assert grown < 300 * 1024  # 64 MiB read at most (1 GiB inflated, or endless, before)
    assert "sent more than 67,108,864 bytes, not a features payload; check api_host" in words


@pytest.mark.parametrize(
    ("body", "words"),
    [
        (b"<html>a login page</html>", "answered something that is not JSON"),
        (b"[" * 100_000 + b"]" * 100_000, "answered something that is not JSON"),
        (b"[1, 2]", "answered a JSON list, not a features payload (an object)"),
    ],
    ids=["html", "nested-100k-deep", "a-list"],
)
def test_a_body_that_is_not_a_payload_is_named_as_such(
    server: HostileServer, body: bytes, words: str, caplog: pytest.LogCaptureFixture
) -> None:
    server.script = answer(200, body)
    said = _run(server.url, caplog)
    assert f"{server.url} {words}" in said
    assert said.endswith("check api_host points at GrowthBook's API or proxy")


@pytest.mark.parametrize(("status", "fix"), [(401, "check client_key"), (503, "check api_host")])
def test_an_error_status_names_the_option_to_check(
    server: HostileServer, status: int, fix: str, caplog: pytest.LogCaptureFixture
) -> None:
    server.script = answer(status, b"nope")
    said = _run(server.url, caplog)
    assert said.startswith(f"flagport-growthbook: {server.url} answered HTTP {status}")
    assert fix in said


def test_an_unreachable_host_is_named_with_the_option(caplog: pytest.LogCaptureFixture) -> None:
    said = _run("http://127.0.0.1:9", caplog)
    assert said.startswith("flagport-growthbook: cannot fetch features from http://127.0.0.1:9:")
    assert said.endswith("check api_host (and the network)")


def test_a_failure_that_goes_on_is_logged_once(
    server: HostileServer, caplog: pytest.LogCaptureFixture
) -> None:
    server.script = answer(503, b"")
    fp = Flagport(
        provider="growthbook", client_key=KEY, api_host=server.url, init_timeout=1,
        retry_interval=0.05,
    )  # fmt: skip
    try:
        fp.check_gate(USER, "new_checkout")
        deadline = time.monotonic() + 5
        while len(server.heads) < 5 and time.monotonic() < deadline:
            time.sleep(0.02)
        assert len(server.heads) >= 5
    finally:
        fp.shutdown(timeout=1)
    assert len(_failures(caplog)) == 1


def test_a_redirect_is_followed_and_the_etag_sent_back(caplog: pytest.LogCaptureFixture) -> None:
    with (
        GrowthBookLoopback(scenario_payload(), client_key=KEY) as real,
        hostile_server(redirect(f"{real.url}/api/features/{KEY}")) as front,
    ):
        fp = Flagport(
            provider="growthbook", client_key=KEY, api_host=front.url, refresh_interval=0.05
        )
        try:
            assert fp.check_gate(USER, "new_checkout") is True
            deadline = time.monotonic() + 5
            while real.feature_fetches() < 3 and time.monotonic() < deadline:
                time.sleep(0.02)
            assert fp.provider.reloads == 1  # the polls were answered 304 Not Modified
            assert any("if-none-match" in {k.lower() for k in h} for _, _, h in real.requests)
        finally:
            fp.shutdown(timeout=1)


@pytest.mark.parametrize("key", [None, "AAAAAAAAAAAAAAAAAAAAAA=="], ids=["missing", "wrong"])
def test_an_encrypted_payload_without_the_right_key_names_the_option(
    key: str | None, caplog: pytest.LogCaptureFixture
) -> None:
    with GrowthBookLoopback(scenario_payload(), encryption_key="Zvwv/+uhpFDznZ6SX28Yjg==") as real:
        options = real.options(init_timeout=0.5)
        if key is not None:
            options["decryption_key"] = key
        with Flagport(provider="growthbook", **options) as fp:
            assert fp.get_gate(USER, "new_checkout").error_code == "PROVIDER_NOT_READY"
    assert (
        f"the features from {real.url} are encrypted and cannot be decrypted; set "
        "decryption_key (FLAGPORT_GROWTHBOOK_DECRYPTION_KEY)" in caplog.text
    )
    assert key is None or key not in caplog.text


def test_shutdown_hangs_up_a_download_whose_answer_never_comes(server: HostileServer) -> None:
    from hostile_http import silent

    server.script = lambda connection, head: silent(connection)
    before = set(threading.enumerate())
    fp = Flagport(
        provider="growthbook", client_key=KEY, api_host=server.url, init_timeout=0.3,
        http_timeout=30,
    )  # fmt: skip
    assert fp.get_gate(USER, "new_checkout").error_code == "PROVIDER_NOT_READY"
    started = time.monotonic()
    fp.shutdown(timeout=1)
    assert time.monotonic() - started < 1.5
    deadline = time.monotonic() + 1
    while _threads(before) and time.monotonic() < deadline:
        time.sleep(0.02)
    # Before: the sync thread waited out its read's timeout (http_timeout) after shutdown.
    assert not _threads(before)
