"""The features download, bounded in time and size: ``GET <api_host>/api/features/<key>``.

The SDK's own download (urllib3, ``preload_content``) reads whatever the server sends:
a body that never ends or a gzip bomb fills the memory, and its timeouts bound each
socket read, not the download, so a server dripping a byte a second holds the sync
thread for ever (past ``shutdown()``). flagport's conditional GET
(:class:`~flagport.providers.local.url_fetch.HttpFetcher`, the local provider's URL
source) has none of that: the whole exchange within ``http_timeout``, at most
:data:`~flagport._documents.MAX_DOCUMENT_BYTES` inflated, ETags sent back, redirects
limited. This module gives it GrowthBook's path, headers and decryption, and words
every failure as what happened, where, and which option to check, never with the key
(which is part of the URL).
"""

from __future__ import annotations

import json
import re
from typing import Any

from growthbook import FeatureRepository

from flagport._documents import MAX_DOCUMENT_BYTES
from flagport._redirects import shown_origin
from flagport.providers.local.url_fetch import FetchError, HttpFetcher

__all__ = ["DownloadError", "FeaturesDownload"]

_STATUS = re.compile(r"answered HTTP (\d+)")


class DownloadError(Exception):
    """No usable payload came; the message says why and holds no key."""


class _Fetcher(HttpFetcher):
    def _late(self, url: str) -> str:
        return (
            f"{shown_origin(url)} did not send the features within {self.timeout:g}s (a "
            "stalled or dripping server?); check api_host, or raise http_timeout"
        )


class FeaturesDownload:
    """Downloads and decrypts one SDK connection's payload.

    :param api_host: GrowthBook API (or proxy) base URL, without a trailing slash.
    :param client_key: SDK connection key.
    :param decryption_key: key of an encrypted connection, or ``""``.
    :param timeout: seconds the whole exchange may take.
    :param repo: the SDK repository whose decryption is used.
    """

    def __init__(
        self,
        api_host: str,
        client_key: str,
        decryption_key: str,
        timeout: float,
        repo: FeatureRepository,
    ) -> None:
        self.origin = shown_origin(api_host)
        self._key = client_key
        self._decryption_key = decryption_key
        self._repo = repo
        # The SDK's headers (its user agent, compressed bodies welcome).
        self._fetcher = _Fetcher(
            f"{api_host}/api/features/{client_key}",
            repo._get_headers(client_key),
            timeout,
            signed=False,
        )
        self._fetcher.display = f"{self.origin}/api/features/<client_key>"

    def hang_up(self) -> None:
        """End a download in flight now (from another thread)."""
        self._fetcher.hang_up()

    def close(self) -> None:
        self._fetcher.close()

    def fetch(self) -> dict[str, Any] | None:
        """The decrypted payload, or None when the server says it has not changed.

        :raises DownloadError: the server cannot be reached, fails, or answers
            something that is not a payload this connection can read.
        """
        try:
            fetched = self._fetcher.fetch()
        except FetchError as exc:
            raise DownloadError(self._explain(str(exc))) from None
        if fetched is None:
            return None
        # Remembered whatever the payload holds: a bad one is reported once, not per poll.
        self._fetcher.etag, self._fetcher.last_modified = fetched.etag, fetched.last_modified
        try:
            decoded = json.loads(fetched.body)
        except (ValueError, RecursionError) as exc:
            raise DownloadError(
                f"{self.origin} answered something that is not JSON ({_short(exc)}); check "
                "api_host points at GrowthBook's API or proxy"
            ) from None
        if not isinstance(decoded, dict):
            raise DownloadError(
                f"{self.origin} answered a JSON {type(decoded).__name__}, not a features "
                "payload (an object); check api_host points at GrowthBook's API or proxy"
            )
        try:
            payload = self._repo.decrypt_response(decoded, self._decryption_key)
        except ValueError:  # the SDK's "Must specify decryption_key"
            payload = None
        if payload is None:
            raise DownloadError(
                f"the features from {self.origin} are encrypted and cannot be decrypted; set "
                "decryption_key (FLAGPORT_GROWTHBOOK_DECRYPTION_KEY) to the SDK connection's key"
            )
        return payload

    def _explain(self, error: str) -> str:
        """The fetcher's words for a failure, with GrowthBook's options for the fix."""
        if error.startswith(self.origin + " did not send"):
            return error  # the deadline's own words (_Fetcher._late) name the option
        detail = error.replace(self._key, "<client_key>")
        detail = detail.removeprefix(self._fetcher.display + ": ")
        status = _STATUS.search(detail)
        if status is not None:
            code = int(status[1])
            return f"{self.origin} answered HTTP {code} to the features download; " + (
                "check client_key (and api_host)"
                if code in (401, 403, 404)
                else "check api_host, or wait for the server to recover"
            )
        if detail.startswith("larger than"):
            return (
                f"{self.origin} sent more than {MAX_DOCUMENT_BYTES:,} bytes, not a features "
                "payload; check api_host points at GrowthBook's API or proxy"
            )
        return (
            f"cannot fetch features from {self.origin}: {detail}; check api_host (and the network)"
        )


def _short(exc: BaseException) -> str:
    text = str(exc) or type(exc).__name__
    return text if len(text) <= 120 else text[:117] + "..."
