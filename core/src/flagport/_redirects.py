"""Redirects that never take a key (or users' attributes) to a server nobody configured.

flagport reaches vendor servers with a key in the request in two places: the FeatBit
provider (its data-sync websocket and its insight posts) and ``flagport import VENDOR
--live``. The HTTP and websocket libraries underneath follow a redirect to any server
and resend the request there, so each of those requests follows one only as
:class:`SameServer` allows:

- to the same origin: scheme, host and port, a default port written or not
  (``wss://h`` is ``wss://h:443``); a relative ``Location`` is resolved against the URL
  that answered it;
- on the same host, from plain text to TLS (``http`` to ``https``, ``ws`` to ``wss``, on
  any port): the same server, better protected. Never back from TLS to plain text;
- at most :data:`REDIRECTS` in a row, so a loop ends.

:func:`same_server` is that rule on its own: the local provider's URL source follows
any redirect (a flags file may move to a CDN) but sends its configured headers only
where the rule allows.

Anything else is :class:`RedirectRefused`, whose message names both origins (scheme,
host and port: never a path or query, which may hold a key) and the setting to change.
websocket-client is imported only by :meth:`SameServer.connect`, never at ``import
flagport``.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urljoin, urlsplit

__all__ = ["REDIRECTS", "RedirectRefused", "SameServer", "same_server", "shown_origin"]

#: Redirects followed in a row at most (websocket-client's own default limit).
REDIRECTS = 3
_DEFAULT_PORTS = {"http": 80, "ws": 80, "https": 443, "wss": 443}
#: The TLS scheme a plain-text one may be upgraded to.
_TLS = {"http": "https", "ws": "wss"}


class RedirectRefused(Exception):
    """A redirect not followed; the message is one line, names both origins, holds no key."""


def shown_origin(url: str) -> str:
    """The origin of ``url`` as a user writes it: no path, no query (no key)."""
    parts = urlsplit(url)
    try:
        port = f":{parts.port}" if parts.port else ""
    except ValueError:  # not a number: shown as nothing rather than echoed
        port = ":?"
    return f"{parts.scheme}://{parts.hostname or '?'}{port}"


def _server(url: str) -> tuple[str, str, int | None]:
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    try:
        port = parts.port or _DEFAULT_PORTS.get(scheme)
    except ValueError:
        port = -1  # matches no server
    return scheme, parts.hostname or "", port


def same_server(current: str, target: str) -> bool:
    """Whether a request may go from ``current`` to ``target`` with what is kept on
    ``current``'s server: the same origin (a default port written or not), or the same
    host from plain text up to TLS. ``target`` is absolute (a ``Location`` resolved)."""
    (scheme, host, _), (to_scheme, to_host, _) = _server(current), _server(target)
    if _server(target) == _server(current):
        return True
    return bool(host) and host == to_host and to_scheme == _TLS.get(scheme)


@dataclass(frozen=True, slots=True)
class SameServer:
    """The redirect rule for one kind of request, and the words its errors use.

    :ivar what: the request, as an error names it (``"the websocket upgrade"``).
    :ivar setting: the option naming the server (``"streaming_url"``).
    :ivar kept: what must stay on that server (``"the env_secret"``).
    """

    what: str
    setting: str
    kept: str

    def follow(self, current: str, location: str | None, *, status: int, hops: int) -> str:
        """The URL a redirect answered by ``current`` leads to, if it may be followed.

        :param location: the ``Location`` header (relative or absolute; None: missing).
        :param status: the redirect's HTTP status.
        :param hops: redirects already followed in this chain.
        :raises RedirectRefused: another server, TLS to plain text, no ``Location``,
            or more than :data:`REDIRECTS` redirects.
        """
        here = shown_origin(current)
        if hops >= REDIRECTS:
            raise RedirectRefused(
                f"{here} redirected {self.what} more than {REDIRECTS} times; check {self.setting}"
            )
        if not location:
            raise RedirectRefused(
                f"{here} answered {self.what} with HTTP {status} and no Location; check "
                f"{self.setting}"
            )
        target = urljoin(current, location)
        if same_server(current, target):
            return target
        there = shown_origin(target)
        (scheme, host, _), (to_scheme, to_host, _) = _server(current), _server(target)
        if host and host == to_host and scheme == _TLS.get(to_scheme):
            raise RedirectRefused(
                f"{here} redirected {self.what} to {there}, from TLS to plain text; not "
                f"followed, to keep {self.kept} encrypted. Check {self.setting}"
            )
        raise RedirectRefused(
            f"{here} redirected {self.what} to another server ({there}); not followed, to "
            f"keep {self.kept} on the server of {self.setting}. Set {self.setting} to that "
            "server if you trust it"
        )

    def connect(
        self,
        ws: Any,
        url: str,
        *,
        socket_for: Callable[[str], Any] | None = None,
        **options: Any,
    ) -> None:
        """websocket-client's ``WebSocket.connect(url, **options)`` on ``ws``, following
        a redirect of the upgrade only as :meth:`follow` allows (the library would
        follow one anywhere, with every header).

        :param socket_for: the connected socket to use for each URL tried (the
            library's ``socket=`` option); otherwise a ``socket`` in ``options`` serves
            the first URL only, as in the library.
        :raises RedirectRefused: a redirect not followed.
        :raises websocket.WebSocketException: as the library's ``connect``.
        """
        import websocket

        options.pop("redirect_limit", None)  # each redirect is followed here, or refused
        for hops in itertools.count():
            if socket_for is not None:
                options["socket"] = socket_for(url)
            ws.handshake_response = None  # not a redirect answered to an earlier attempt
            try:
                websocket.WebSocket.connect(  # type: ignore[no-untyped-call]
                    ws, url, **options, redirect_limit=0
                )
                return
            except websocket.WebSocketException:
                # Set by the attempt when the server answered the upgrade.
                response: Any = ws.handshake_response
                if response is None or not 300 <= response.status < 400:
                    raise
            options.pop("socket", None)
            url = self.follow(
                url, response.headers.get("location"), status=response.status, hops=hops
            )
