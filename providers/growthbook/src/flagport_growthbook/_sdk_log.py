"""Plain words for the GrowthBook SDK's fetch failures.

The SDK's features download catches every exception of the request under one message,
``Failed to decode feature JSON from GrowthBook API: <error>``: a host that does not
resolve, a refused connection or a timeout reads as a bad payload, and a user whose
``api_host`` is wrong looks for a JSON problem. :class:`FetchErrorWording`, a filter on
the SDK's ``growthbook`` logger (where the SDK logs it, so a logger filter sees it),
rewrites such a record when the error is a network one: what failed, on which host and
port, and the option to check, with the SDK's own text kept at the end. Other records
pass unchanged.
"""

from __future__ import annotations

import logging
import re

__all__ = ["FetchErrorWording", "explain_fetch_errors"]

_SDK_PREFIX = "Failed to decode feature JSON from GrowthBook API: "
#: urllib3's connection-pool errors name the server as ``host='h', port=p``.
_SERVER = re.compile(r"host='(?P<host>[^']*)', port=(?P<port>\d+)")
#: The network failures worth naming, by the urllib3 / OS wording that reports them.
_CAUSES = (
    ("NameResolutionError", "cannot resolve the host name"),
    ("Name or service not known", "cannot resolve the host name"),
    ("Connection refused", "the connection was refused"),
    ("ConnectTimeoutError", "the connection timed out"),
    ("ReadTimeoutError", "the response timed out"),
    ("SSLError", "the TLS handshake failed"),
    ("Max retries exceeded", "the request failed"),
)


def _explained(message: str) -> str | None:
    detail = message.removeprefix(_SDK_PREFIX)
    cause = next((words for marker, words in _CAUSES if marker in detail), None)
    if cause is None:
        return None  # not a network error: the SDK's words stand
    server = _SERVER.search(detail)
    where = f" at {server['host']}:{server['port']}" if server else ""
    return (
        f"cannot fetch features from the GrowthBook API{where}: {cause}; check api_host "
        f"(and the network). The SDK reports this as: {message}"
    )


class FetchErrorWording(logging.Filter):
    """Rewrites the SDK's "Failed to decode feature JSON" record when the cause was the
    network, never drops a record."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.msg, str) and record.msg.startswith(_SDK_PREFIX):
            explained = _explained(record.getMessage())
            if explained is not None:
                record.msg, record.args = explained, None
        return True


def explain_fetch_errors() -> None:
    """Attach :class:`FetchErrorWording` to the SDK's logger (once per process)."""
    sdk = logging.getLogger("growthbook")
    if not any(isinstance(f, FetchErrorWording) for f in sdk.filters):
        sdk.addFilter(FetchErrorWording())
