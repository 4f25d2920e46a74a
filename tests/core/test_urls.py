"""Options that hold an HTTP URL are checked at construction."""

from __future__ import annotations

import pytest

from flagport import ConfigurationError, Flagport
from flagport.urls import check_http_url


@pytest.mark.parametrize(
    "url", ["https://cdn.example.com", "http://127.0.0.1:8080/flags.yaml", "HTTPS://h/x?y=1"]
)
def test_http_urls_pass_unchanged(url: str) -> None:
    assert check_http_url(url) == url


@pytest.mark.parametrize(
    ("url", "problem"),
    [
        ("flags.example.com/flags.yaml", "must start with http:// or https://"),
        ("ftp://flags.example.com/flags.yaml", "must start with http:// or https://"),
        ("https://", "has no host name"),
        ("https:///flags.yaml", "has no host name"),
        ("http://[::1/flags.yaml", "is not a valid URL (its host or port)"),
        ("https://h:port/flags.yaml", "is not a valid URL (its host or port)"),
    ],
)
def test_anything_else_says_what_is_wrong_and_shows_the_form(url: str, problem: str) -> None:
    with pytest.raises(ValueError, match=r"\(e\.g\. https://flags\.example\.com\)") as info:
        check_http_url(url)
    assert str(info.value).startswith(problem)


def test_the_local_providers_url_is_checked_at_construction() -> None:
    # A URL with no host (or a broken port) was accepted, and failed at every poll.
    with pytest.raises(ConfigurationError, match="option 'url': has no host name"):
        Flagport(provider="local", url="https:///flags.yaml")
