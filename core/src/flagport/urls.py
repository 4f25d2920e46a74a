"""Provider options that hold an HTTP URL (a vendor's API host, a flags file's address).

Checked when the options are validated, at construction: ``growthbook.internal`` (no
scheme) or ``ftp://...`` is a :class:`~flagport.ConfigurationError` naming the option,
not a start-up that waits its whole timeout and then serves defaults.
"""

from __future__ import annotations

from typing import Annotated
from urllib.parse import urlsplit

from pydantic import AfterValidator

__all__ = ["HttpUrlOption", "check_http_url"]


def check_http_url(url: str) -> str:
    """``url`` itself when it is an ``http://`` or ``https://`` URL with a host.

    :raises ValueError: anything else, with an example of the right form.
    """
    example = "(e.g. https://flags.example.com)"
    try:
        parts = urlsplit(url)
        host, _ = parts.hostname, parts.port  # both parse lazily, and may refuse
    except ValueError:
        raise ValueError(f"is not a valid URL (its host or port) {example}") from None
    if parts.scheme not in ("http", "https"):
        raise ValueError(f"must start with http:// or https:// {example}")
    if not host:
        raise ValueError(f"has no host name {example}")
    return url


#: A ``str`` option that must be an http(s) URL with a host.
HttpUrlOption = Annotated[str, AfterValidator(check_http_url)]
