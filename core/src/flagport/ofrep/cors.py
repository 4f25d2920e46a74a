"""Cross-origin access to the OFREP endpoint for browser front-ends (CORS).

A page on another origin calls the endpoint with ``Authorization``, ``If-None-Match``
and a JSON ``Content-Type``, none of them CORS-safelisted, so the browser first sends a
preflight (``OPTIONS`` with ``Access-Control-Request-Method``); it lets the script read
an answer only if the answer names the page's origin, and lets it read the ``ETag``
only if the answer exposes it.

The policy follows the Fetch standard's guidance on CORS and HTTP caches: with ``"*"``
every response carries the same static headers; with a list of origins, a response
names the request's origin only when listed, and every response says ``Vary: Origin``
(also those that name none), so no cache hands one origin's answer to another.
"""

from __future__ import annotations

from collections.abc import Iterable
from urllib.parse import urlsplit

from flagport.errors import ConfigurationError, shown

__all__ = ["ALLOWED_REQUEST_HEADERS", "CorsPolicy", "cors_policy"]

#: The request headers a page may send: the ones an OFREP client sends (``Authorization``
#: or ``X-API-Key`` for the token, ``If-None-Match`` for the ETag, ``Content-Type:
#: application/json`` for the body), and ``*`` for the headers a front-end adds itself
#: (the web provider's ``headers`` option). The Fetch standard's wildcard never covers
#: ``Authorization``, so it is named; and the wildcard holds only for requests without
#: cookies, the only ones this endpoint allows. Allowing any header risks nothing here:
#: the endpoint reads only these, and any client outside a browser can send any header.
ALLOWED_REQUEST_HEADERS = ("authorization", "content-type", "if-none-match", "x-api-key", "*")
#: Chromium's ceiling for caching a preflight (Firefox keeps up to a day).
DEFAULT_MAX_AGE = 7200
_MAX_MAX_AGE = 86_400
_DEFAULT_PORTS = {"http": 80, "https": 443}
_EXAMPLE = "'https://app.example.com'"
_VARY = (b"vary", b"Origin")


class CorsPolicy:
    """Which origins may read the endpoint's answers, and the headers that say so.

    Build one with :func:`cors_policy`.
    """

    __slots__ = ("_any", "_origins", "_preflight", "_static")

    def __init__(self, origins: frozenset[bytes] | None, max_age: int) -> None:
        self._any = origins is None
        self._origins = origins or frozenset()
        expose = (b"access-control-expose-headers", b"ETag")
        self._static = (
            [(b"access-control-allow-origin", b"*"), expose] if self._any else [_VARY, expose]
        )
        self._preflight = [
            (b"access-control-allow-methods", b"POST"),
            (b"access-control-allow-headers", ", ".join(ALLOWED_REQUEST_HEADERS).encode()),
            (b"access-control-max-age", str(max_age).encode()),
        ]

    def __repr__(self) -> str:
        allowed = "any origin" if self._any else f"{len(self._origins)} origins"
        return f"<CorsPolicy {allowed}>"

    def allows(self, origin: bytes | None) -> bool:
        """Whether a request from ``origin`` (its ``Origin`` header) may read answers."""
        return self._any or (origin is not None and origin in self._origins)

    def response_headers(self, origin: bytes | None) -> list[tuple[bytes, bytes]]:
        """The CORS headers for any answer to a request from ``origin``.

        Error answers carry them too: a browser shows a script no status and no body
        of an answer without them, only a network error.
        """
        if self._any or origin is None or origin not in self._origins:
            return self._static
        return [(b"access-control-allow-origin", origin), *self._static]

    def preflight_headers(self) -> list[tuple[bytes, bytes]]:
        """What an allowed preflight is answered with, besides :meth:`response_headers`.

        The same whatever method and headers the preflight asks for: the browser
        compares them and names the one refused in its console (a method other than
        ``POST``), which tells a developer more than a refused preflight would.
        """
        return self._preflight


def cors_policy(origins: Iterable[str] | None, max_age: int) -> CorsPolicy | None:
    """The policy for ``ofrep_app(cors_origins=..., cors_max_age=...)``.

    :raises ConfigurationError: an origin is not one a browser would send, or an option
        is not usable; the message names which and how to write it.
    """
    if isinstance(max_age, bool) or not isinstance(max_age, int):
        raise ConfigurationError(
            f"ofrep_app(cors_max_age=...) must be an int of seconds, got {shown(max_age)}"
        )
    if not 0 <= max_age <= _MAX_MAX_AGE:
        raise ConfigurationError(
            f"ofrep_app(cors_max_age=...) must be between 0 and {_MAX_MAX_AGE} seconds "
            f"(browsers keep a preflight at most that long), got {max_age}"
        )
    if origins is None:
        return None
    if isinstance(origins, str | bytes):
        raise ConfigurationError(
            f"ofrep_app(cors_origins=...) takes a list of origins, not one string: "
            f"cors_origins=[{shown(origins)}]"
        )
    checked = [_check_origin(number, origin) for number, origin in enumerate(origins, 1)]
    if not checked:
        raise ConfigurationError(
            "ofrep_app(cors_origins=[]) would let no page read an answer; pass "
            "cors_origins=None to leave CORS off"
        )
    if "*" in checked:
        if len(checked) > 1:
            raise ConfigurationError(
                "ofrep_app(cors_origins=...) lists '*' with other origins; '*' already "
                "allows every origin: pass ['*'] alone, or only the origins"
            )
        return CorsPolicy(None, max_age)
    return CorsPolicy(frozenset(origin.encode() for origin in checked), max_age)


def _check_origin(number: int, origin: object) -> str:
    where = f"ofrep_app cors_origins #{number}"
    if not isinstance(origin, str):
        raise ConfigurationError(f"{where} must be a str, got {type(origin).__name__}")
    if origin == "*":
        return origin
    if origin.lower() == "null":
        raise ConfigurationError(
            f"{where} is 'null', the origin of sandboxed frames and file: pages; any of "
            f"them could read answers. Serve the front-end from an origin such as {_EXAMPLE}"
        )
    if "*" in origin:
        raise ConfigurationError(
            f"{where} {shown(origin)} is a pattern; list each origin, such as {_EXAMPLE}, "
            "or pass ['*'] alone"
        )
    problem = _origin_problem(origin)
    if problem is not None:
        raise ConfigurationError(
            f"{where} {shown(origin)} {problem}; an origin is scheme://host[:port] as the "
            f"browser sends it in the Origin header, such as {_EXAMPLE}"
        )
    return origin


def _origin_problem(origin: str) -> str | None:
    """What keeps ``origin`` from ever equalling a browser's ``Origin`` header."""
    if not origin.isascii() or not origin.isprintable() or " " in origin:
        return "must be printable ASCII (write an international host name in punycode)"
    try:
        parts = urlsplit(origin)
        port = parts.port
    except ValueError as exc:
        return f"is not a URL ({exc})"
    if not parts.scheme or not parts.netloc:
        return "has no scheme or no host"
    if parts.username is not None or parts.password is not None:
        return "has a user name or password"
    if parts.path or parts.query or parts.fragment or origin.endswith(("?", "#")):
        return "has a path (a trailing '/' counts)"
    if origin != origin.lower():
        return f"has capitals; browsers send it in lower case: {shown(origin.lower())}"
    if port is not None and _DEFAULT_PORTS.get(parts.scheme) == port:
        return f"names the default port {port}, which browsers leave out"
    return None
