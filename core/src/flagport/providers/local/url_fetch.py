"""One conditional GET of a flags file over HTTP(S), bounded in time and size.

The request carries ``If-None-Match`` and ``If-Modified-Since`` from the last good
response, so an unchanged file costs the server a 304 and the process no parse and no
recompile. The whole exchange (connect, headers, body, signature) must finish within
``timeout`` seconds: a server that drips one byte a second cannot hold a start-up
longer than that (:mod:`~flagport.providers.local.url_wire` caps every socket operation
by the time left). Validators that could not be sent back are not kept, and the
configured headers go to the URL's server only (as :mod:`flagport._redirects` rules),
never to another a redirect names, and redirects are followed at most
:data:`~flagport._redirects.REDIRECTS` in a row, the limit flagport's other requests keep.
Built on httpx (the ``flagport[url]`` extra).
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit, urlunsplit

from flagport._documents import MAX_DOCUMENT_BYTES
from flagport._redact import MASK, path_tokens
from flagport._redirects import REDIRECTS
from flagport.providers.local.signing import SIGNATURE_SUFFIX, require

if TYPE_CHECKING:
    from collections.abc import Mapping

__all__ = ["FetchError", "Fetched", "HttpFetcher", "display_url"]

_MAX_SIGNATURE_BYTES = 1024


def _validator(value: str | None) -> str | None:
    """An ETag or Last-Modified worth sending back: visible ASCII only. Another value
    (non-ASCII, a control character) could not be sent as a request header, and keeping
    it would make every later poll fail."""
    if value and len(value) <= 1024 and all(" " <= c <= "~" for c in value):
        return value
    return None


def display_url(url: str) -> str:
    """The URL as messages and stats show it: no user, password or query string, which
    often carry credentials (a presigned bucket URL signs its query), and a folder long
    enough to be a token masked (a tokenised link: ``https://cdn/***/flags.yaml``)."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    if parts.port is not None:
        host = f"{host}:{parts.port}"
    tokens = set(path_tokens(parts.path))
    path = "/".join(MASK if folder in tokens else folder for folder in parts.path.split("/"))
    return urlunsplit((parts.scheme, host, path, "", ""))


class FetchError(Exception):
    """The server could not be reached, failed, or answered something unusable."""


@dataclass(frozen=True)
class Fetched:
    """A new version of the file (a 200)."""

    body: bytes
    etag: str | None
    last_modified: str | None
    #: the detached signature's bytes, when signatures are checked (None: not found)
    signature: bytes | None = None


class HttpFetcher:
    """Fetches one URL, remembering the validators of the last version accepted.

    :param url: the flags file.
    :param headers: sent with every request (authorization, for example).
    :param timeout: seconds the whole exchange may take.
    :param signed: also fetch ``url + ".sig"`` whenever the file changed.
    """

    def __init__(self, url: str, headers: Mapping[str, str], timeout: float, signed: bool) -> None:
        httpx = require("httpx")
        from flagport.providers.local.url_wire import DeadlineTransport, keep_headers_home

        self.url = url
        self.display = display_url(url)
        self.timeout = timeout
        self.signed = signed
        self._httpx: Any = httpx
        transport = DeadlineTransport()
        self._backend = transport.backend
        self._client: Any = httpx.Client(
            headers=dict(headers),
            timeout=timeout,
            follow_redirects=True,
            max_redirects=REDIRECTS,
            transport=transport,
            event_hooks={"request": [keep_headers_home(url, headers)]},
        )
        #: validators sent with the next request (those of the version being served)
        self.etag: str | None = None
        self.last_modified: str | None = None

    def close(self) -> None:
        self._client.close()

    def hang_up(self) -> None:
        """End a fetch in flight now (from another thread); it raises :class:`FetchError`."""
        self._backend.hang_up()

    def fetch(self) -> Fetched | None:
        """GET the file, conditionally.

        :returns: the new version, or None when the server answered 304 Not Modified.
        :raises FetchError: a network error, a timeout, an HTTP error status, or a body
            over the size limit; the message names the URL (without credentials).
        """
        deadline = self._backend.deadline = time.monotonic() + self.timeout
        conditional: dict[str, str] = {}
        if self.etag:
            conditional["If-None-Match"] = self.etag
        if self.last_modified:
            conditional["If-Modified-Since"] = self.last_modified
        try:
            status, body, headers = self._get(self.url, conditional, MAX_DOCUMENT_BYTES)
            if status == 304 and conditional:
                return None
            if status == 304:  # "not modified" from a version this process never had
                raise FetchError(
                    f"{self.display}: the server answered 304 Not Modified to a request "
                    "naming no version; check its caching (it must answer 200 with the file)"
                )
            self._check_status(status, self.display)
            signature = None
            if self.signed:
                sig_status, sig_body, _ = self._get(
                    self.url + SIGNATURE_SUFFIX, {}, _MAX_SIGNATURE_BYTES
                )
                if sig_status != 404:
                    self._check_status(sig_status, self.display + SIGNATURE_SUFFIX)
                    signature = sig_body
        except self._httpx.TooManyRedirects:
            raise FetchError(
                f"{self.display}: redirected more than {REDIRECTS} times, the most flagport "
                "follows; set url to where the flags file is (a redirect loop?)"
            ) from None
        except self._httpx.HTTPError as exc:
            if time.monotonic() >= deadline:
                raise FetchError(self._late(self.url)) from None
            detail = str(exc) or type(exc).__name__
            raise FetchError(f"{self.display}: {type(exc).__name__}: {detail}") from None
        finally:
            self._backend.deadline = None
        return Fetched(
            body, _validator(headers.get("etag")), _validator(headers.get("last-modified")),
            signature,
        )  # fmt: skip

    def _late(self, url: str) -> str:
        return (
            f"{display_url(url)}: timed out, the response took longer than the timeout "
            f"({self.timeout:g}s); raise timeout or check the server"
        )

    def _get(self, url: str, headers: dict[str, str], limit: int) -> tuple[int, bytes, Any]:
        with self._client.stream("GET", url, headers=headers) as response:
            if response.status_code != 200:
                return response.status_code, b"", response.headers
            chunks: list[bytes] = []
            size = 0
            # httpx inflates one read (64 KiB) at a time: a gzip bomb stops past the limit.
            for chunk in response.iter_bytes():
                size += len(chunk)
                if size > limit:
                    raise FetchError(
                        f"{display_url(url)}: larger than {limit:,} bytes, the most "
                        "flagport reads; check the URL names a flags file"
                    )
                chunks.append(chunk)
            return 200, b"".join(chunks), response.headers

    @staticmethod
    def _check_status(status: int, where: str) -> None:
        if status != 200:
            raise FetchError(f"{where}: the server answered HTTP {status}")
