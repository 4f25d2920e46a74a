"""The one redirect rule (``flagport._redirects``) of the FeatBit provider, ``flagport
import --live`` and the local provider's URL source, case by case; the wire is exercised
by ``tests/featbit/test_redirects.py``, ``tests/core/importers/test_live_redirects.py``
and ``tests/core/local/test_url_hostile.py``."""

from __future__ import annotations

import pytest

from flagport._redirects import REDIRECTS, RedirectRefused, SameServer, same_server, shown_origin

RULE = SameServer("the websocket upgrade", "streaming_url", "the env_secret")
TOKEN = "tok-3f9a1c"


@pytest.mark.parametrize(
    ("current", "location", "followed"),
    [
        ("wss://flags.example/streaming", "wss://flags.example:443/s", "wss://flags.example:443/s"),
        ("wss://flags.example:443/streaming", "wss://flags.example/s", "wss://flags.example/s"),
        ("http://flags.example/a", "http://flags.example:80/b", "http://flags.example:80/b"),
        ("ws://flags.example:8080/streaming", "/moved?x=1", "ws://flags.example:8080/moved?x=1"),
        ("ws://flags.example:8080/a/b", "c", "ws://flags.example:8080/a/c"),
        ("ws://flags.example/a", "ws://FLAGS.example/b", "ws://FLAGS.example/b"),
        # Up to TLS on the same host, on any port.
        ("ws://flags.example:8080/a", "wss://flags.example/a", "wss://flags.example/a"),
        ("ws://flags.example/a", "wss://flags.example:9443/a", "wss://flags.example:9443/a"),
        ("http://flags.example/a", "https://flags.example/a", "https://flags.example/a"),
    ],
)
def test_followed(current: str, location: str, followed: str) -> None:
    assert RULE.follow(current, location, status=307, hops=0) == followed


@pytest.mark.parametrize(
    ("current", "location", "words"),
    [
        ("wss://flags.example/s", "wss://other.example/s", "to another server (wss://other"),
        ("wss://flags.example/s", "wss://flags.example:8443/s", "(wss://flags.example:8443)"),
        ("wss://flags.example/s", "//other.example/s", "(wss://other.example)"),
        ("ws://flags.example/s", "wss://other.example/s", "(wss://other.example)"),
        ("http://flags.example/s", "wss://flags.example/s", "(wss://flags.example)"),
        ("https://flags.example/s", "wss://flags.example/s", "(wss://flags.example)"),
        ("wss://flags.example/s", "ws://flags.example/s", "from TLS to plain text"),
        ("wss://flags.example:9443/s", "ws://flags.example:80/s", "from TLS to plain text"),
        ("https://flags.example/s", "http://flags.example/s", "from TLS to plain text"),
        ("ws://flags.example/s", "ws://flags.example:x/s", "another server (ws://flags.example:?)"),
    ],
)
def test_refused(current: str, location: str, words: str) -> None:
    with pytest.raises(RedirectRefused) as refused:
        RULE.follow(f"{current}?token={TOKEN}", f"{location}?token={TOKEN}", status=302, hops=0)
    message = str(refused.value)
    assert words in message
    assert message.startswith(f"{shown_origin(current)} redirected the websocket upgrade")
    assert "streaming_url" in message
    assert TOKEN not in message
    assert "/s" not in message


def test_same_server_is_the_rule_a_redirect_is_followed_by() -> None:
    home = "http://flags.example/flags.yaml"
    assert same_server(home, "http://flags.example:80/moved")
    assert same_server(home, "https://flags.example:8443/flags.yaml")
    assert not same_server(home, "http://flags.example:8080/flags.yaml")
    assert not same_server(home, "http://other.example/flags.yaml")
    assert not same_server("https://flags.example/f", "http://flags.example/f")


def test_at_most_three_in_a_row() -> None:
    url = "ws://flags.example/a"
    for hops in range(REDIRECTS):
        url = RULE.follow(url, "/again", status=307, hops=hops)
    with pytest.raises(RedirectRefused, match="more than 3 times; check streaming_url"):
        RULE.follow(url, "/again", status=307, hops=REDIRECTS)


def test_a_redirect_without_location_is_refused() -> None:
    with pytest.raises(RedirectRefused, match="with HTTP 302 and no Location; check"):
        RULE.follow("ws://flags.example/a", None, status=302, hops=0)


def test_the_origin_shown_is_as_written_without_path_or_credentials() -> None:
    assert shown_origin(f"wss://user:{TOKEN}@Flags.Example:8443/p?token={TOKEN}") == (
        "wss://flags.example:8443"
    )
    assert shown_origin("https://flags.example/p") == "https://flags.example"
