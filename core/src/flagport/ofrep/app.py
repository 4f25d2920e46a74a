"""The OFREP endpoint as a plain ASGI application (no web framework needed).

Routes (relative to where the application is mounted):

* ``POST /ofrep/v1/evaluate/flags/{key}``: one flag for the request's context;
* ``POST /ofrep/v1/evaluate/flags``: every flag, with an ``ETag``; a request whose
  ``If-None-Match`` names the current one gets ``304 Not Modified`` and no body;
* ``OPTIONS`` on either, from a browser (a CORS preflight), when ``cors_origins`` is set.

Every answer is ``Cache-Control: no-store``: it is one user's flags, often behind a
token, and the client keeps the ``ETag`` itself (POST answers are not reused by HTTP
caches anyway; this says so to the ones configured to).

Evaluation is synchronous and in memory, so it runs on the event loop; the provider is
started off the loop at the ASGI lifespan start-up when the server sends one.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import logging
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from flagport import _redact
from flagport.errors import ConfigurationError, shown
from flagport.ofrep.cors import DEFAULT_MAX_AGE, CorsPolicy, cors_policy
from flagport.ofrep.evaluation import (
    BulkEncoder,
    RequestError,
    encode_json,
    evaluate_bulk,
    evaluate_flag,
    provider_problem,
    user_from_request,
)

if TYPE_CHECKING:
    from flagport.client import Flagport
    from flagport.middleware import ASGIReceive as Receive
    from flagport.middleware import ASGIScope as Scope
    from flagport.middleware import ASGISend as Send

__all__ = ["MIN_TOKEN_LENGTH", "OfrepApp", "ofrep_app"]

logger = logging.getLogger("flagport.ofrep")

BULK_PATH = "/ofrep/v1/evaluate/flags"
FLAG_PREFIX = BULK_PATH + "/"
#: Bearer tokens shorter than this are refused: they guard little, and log redaction
#: ignores very short strings.
MIN_TOKEN_LENGTH = 16
_TOKEN_HINT = "generate one with: python -c 'import secrets; print(secrets.token_urlsafe(32))'"
_JSON = [(b"content-type", b"application/json")]
_NO_STORE = (b"cache-control", b"no-store")
#: Statuses whose answer has no body and no Content-Length (a 304's would be the unsent
#: 200's; a 204 must not have one).
_NO_LENGTH = frozenset({204, 304})


class _Response:
    __slots__ = ("body", "headers", "status")

    def __init__(
        self, status: int, body: bytes = b"", headers: list[tuple[bytes, bytes]] | None = None
    ) -> None:
        self.status, self.body, self.headers = status, body, headers or []


def _json(status: int, data: Any, headers: list[tuple[bytes, bytes]] | None = None) -> _Response:
    return _Response(status, encode_json(data), [*_JSON, *(headers or [])])


def _error(status: int, details: str, **fields: Any) -> _Response:
    """A failure body: ``errorCode`` (when given, and ``key`` for one flag) and details."""
    return _json(status, {**fields, "errorDetails": details})


def _etag(body: bytes) -> bytes:
    return b'"' + hashlib.blake2b(body, digest_size=16).hexdigest().encode() + b'"'


def _etag_matches(if_none_match: bytes, etag: bytes) -> bool:
    """Weak comparison (RFC 9110 13.1.2): ``W/`` prefixes do not count, ``*`` matches."""
    for candidate in if_none_match.split(b","):
        candidate = candidate.strip()
        if candidate == b"*" or candidate.removeprefix(b"W/") == etag:
            return True
    return False


def _check_tokens(tokens: Iterable[str] | None) -> tuple[bytes, ...] | None:
    if tokens is None:
        return None
    if isinstance(tokens, str | bytes):
        raise ConfigurationError(
            "ofrep_app(tokens=...) takes a list of tokens, not one string: tokens=[token]"
        )
    checked: list[bytes] = []
    for number, token in enumerate(tokens, 1):
        if not isinstance(token, str):
            raise ConfigurationError(
                f"ofrep_app token #{number} must be a str, got {type(token).__name__}"
            )
        if len(token) < MIN_TOKEN_LENGTH:
            raise ConfigurationError(
                f"ofrep_app token #{number} has {len(token)} characters; use at least "
                f"{MIN_TOKEN_LENGTH} ({_TOKEN_HINT})"
            )
        if not (token.isascii() and token.isprintable()) or " " in token:
            raise ConfigurationError(
                f"ofrep_app token #{number} must be printable ASCII without spaces (it "
                f"travels in an HTTP header; {_TOKEN_HINT})"
            )
        checked.append(token.encode())
    if not checked:
        raise ConfigurationError(
            "ofrep_app(tokens=[]) would refuse every request; pass tokens=None to serve "
            "without authentication"
        )
    return tuple(checked)


class OfrepApp:
    """An ASGI application answering OFREP requests from a :class:`~flagport.Flagport`.

    Build one with :func:`ofrep_app`.
    """

    def __init__(
        self,
        fp: Flagport,
        *,
        tokens: Iterable[str] | None,
        max_body_bytes: int = 65_536,
        cors_origins: Iterable[str] | None = None,
        cors_max_age: int = DEFAULT_MAX_AGE,
    ) -> None:
        if not isinstance(max_body_bytes, int) or max_body_bytes < 2:
            raise ConfigurationError(
                f"ofrep_app(max_body_bytes=...) must be an int of at least 2, got "
                f"{shown(max_body_bytes)}"
            )
        self.fp = fp
        self.max_body_bytes = max_body_bytes
        self._tokens = _check_tokens(tokens)
        self._cors: CorsPolicy | None = cors_policy(cors_origins, cors_max_age)
        self._encoder = BulkEncoder()
        if self._tokens:
            # Any log record that comes to carry a token (a proxy's error, a debug dump of
            # headers) is redacted for as long as this application lives.
            _redact.protect(self, {f"token{i}": t.decode() for i, t in enumerate(self._tokens)})

    def __repr__(self) -> str:
        auth = "no authentication" if self._tokens is None else f"{len(self._tokens)} tokens"
        return f"<OfrepApp provider={self.fp.provider_name!r} {auth}>"

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await self._lifespan(receive, send)
            return
        if scope["type"] != "http":
            if scope["type"] == "websocket":
                await send({"type": "websocket.close", "code": 1008})
            return
        request_headers = dict(scope["headers"])
        try:
            response = await self._handle(scope, request_headers, receive)
        except Exception:
            logger.exception("flagport OFREP: the request failed")
            response = _error(500, "the flag service failed; its log says why")
        if response is None:  # the client went away
            return
        headers = [*response.headers, _NO_STORE]
        if self._cors is not None:
            headers += self._cors.response_headers(request_headers.get(b"origin"))
        if response.status not in _NO_LENGTH:
            headers.append((b"content-length", str(len(response.body)).encode()))
        await send({"type": "http.response.start", "status": response.status, "headers": headers})
        await send({"type": "http.response.body", "body": response.body})

    async def _lifespan(self, receive: Receive, send: Send) -> None:
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                loop = asyncio.get_running_loop()
                try:
                    # Starting a vendor SDK waits on the network: not on the loop.
                    await loop.run_in_executor(None, lambda: self.fp.provider)
                except Exception as exc:  # evaluation serves defaults meanwhile
                    logger.warning("flagport OFREP: the provider did not start: %s", exc)
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                # The application that built the client closes it, not this endpoint.
                await send({"type": "lifespan.shutdown.complete"})
                return

    async def _handle(
        self, scope: Scope, headers: dict[bytes, bytes], receive: Receive
    ) -> _Response | None:
        path: str = scope["path"]
        root: str = scope.get("root_path", "")
        if root and path.startswith(root):
            path = path[len(root) :]
        if path == BULK_PATH:
            key = None
        elif path.startswith(FLAG_PREFIX) and len(path) > len(FLAG_PREFIX):
            key = path[len(FLAG_PREFIX) :]
        else:
            return _error(
                404,
                f"no OFREP endpoint at {shown(path)}: POST {BULK_PATH} or {FLAG_PREFIX}{{key}}",
            )
        if (
            scope["method"] == "OPTIONS"
            and self._cors is not None
            and b"access-control-request-method" in headers
        ):
            return self._preflight(headers.get(b"origin"))
        if scope["method"] != "POST":
            return _json(
                405,
                {"errorDetails": f"OFREP endpoints take POST, not {shown(scope['method'])}"},
                [(b"allow", b"POST")],
            )
        if self._tokens is not None and (refused := self._refuse(headers)) is not None:
            return refused
        fields = {} if key is None else {"key": key}
        body = await self._read_body(headers, receive)
        if body is None:
            return None
        if len(body) > self.max_body_bytes:
            return _error(
                413,
                f"the request body is over {self.max_body_bytes} bytes; send only the "
                "evaluation context",
                **fields,
                errorCode="PARSE_ERROR",
            )
        try:
            user = user_from_request(_parse(body))
        except RequestError as exc:
            return _error(400, exc.details, **fields, errorCode=exc.code)
        problem = provider_problem(self.fp)
        if problem is not None:
            return _error(500, problem)
        if key is not None:
            status, item = evaluate_flag(self.fp, user, key)
            return _json(status, item)
        content = evaluate_bulk(self.fp, user, self._encoder)
        etag = _etag(content)
        if_none_match = headers.get(b"if-none-match")
        if if_none_match is not None and _etag_matches(if_none_match, etag):
            return _Response(304, b"", [(b"etag", etag)])
        return _Response(200, content, [*_JSON, (b"etag", etag)])

    def _preflight(self, origin: bytes | None) -> _Response:
        """A browser asking whether a page may call (no token: a preflight carries none)."""
        assert self._cors is not None
        if self._cors.allows(origin):
            return _Response(204, b"", self._cors.preflight_headers())
        shown_origin = "none" if origin is None else shown(origin.decode("latin-1"))
        return _error(
            403,
            f"pages from the origin {shown_origin} may not call this OFREP endpoint; "
            "list the origin in ofrep_app(cors_origins=[...])",
        )

    def _refuse(self, headers: dict[bytes, bytes]) -> _Response | None:
        assert self._tokens is not None
        offered = headers.get(b"x-api-key")
        authorization = headers.get(b"authorization")
        if authorization is not None:
            scheme, _, credentials = authorization.partition(b" ")
            offered = credentials.strip() if scheme.lower() == b"bearer" else None
        if offered is None:
            return _json(
                401,
                {"errorDetails": "no credentials: send the header Authorization: Bearer <token>"},
                [(b"www-authenticate", b'Bearer realm="flagport"')],
            )
        # Every token is compared, in constant time: the answer's timing tells nothing.
        valid = False
        for token in self._tokens:
            valid |= hmac.compare_digest(offered, token)
        if valid:
            return None
        return _json(
            401,
            {"errorDetails": "the bearer token is not one this service accepts"},
            [(b"www-authenticate", b'Bearer realm="flagport", error="invalid_token"')],
        )

    async def _read_body(self, headers: dict[bytes, bytes], receive: Receive) -> bytes | None:
        """The request body, cut off one byte past the limit (``None``: disconnected)."""
        declared = headers.get(b"content-length", b"")
        if declared.isdigit() and int(declared) > self.max_body_bytes:
            return b"\0" * (self.max_body_bytes + 1)  # refused unread
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                return None
            chunk: bytes = message.get("body", b"")
            size += len(chunk)
            if size > self.max_body_bytes:
                return b"\0" * (self.max_body_bytes + 1)
            chunks.append(chunk)
            if not message.get("more_body", False):
                return b"".join(chunks)


def _parse(body: bytes) -> Any:
    if not body.strip():
        raise RequestError(
            "PARSE_ERROR", 'the request has no body: send {"context": {"targetingKey": ...}}'
        )
    try:
        return json.loads(body)
    except RecursionError:
        raise RequestError("PARSE_ERROR", "the request body is nested too deeply") from None
    except ValueError as exc:  # not JSON, or not UTF-8
        raise RequestError("PARSE_ERROR", f"the request body is not JSON: {exc}") from None


def ofrep_app(
    fp: Flagport,
    *,
    tokens: Iterable[str] | None,
    max_body_bytes: int = 65_536,
    cors_origins: Iterable[str] | None = None,
    cors_max_age: int = DEFAULT_MAX_AGE,
) -> OfrepApp:
    """An ASGI application serving ``fp``'s flags over OFREP.

    :param fp: the client whose flags are served.
    :param tokens: the bearer tokens a request may present (``Authorization: Bearer
        <token>``, or ``X-API-Key: <token>``); each at least :data:`MIN_TOKEN_LENGTH`
        characters. ``None`` serves without authentication (say so explicitly).
    :param max_body_bytes: larger request bodies are refused with ``413``, unread.
    :param cors_origins: the origins whose pages may call from a browser, each as the
        browser sends it (``"https://app.example.com"``), or ``["*"]`` for any page;
        ``None`` (the default) sends no CORS headers and answers no preflight.
    :param cors_max_age: how many seconds a browser may reuse an allowed preflight.
    :raises ConfigurationError: a token or an option is not usable (the message names
        which, never the token itself).
    """
    return OfrepApp(
        fp,
        tokens=tokens,
        max_body_bytes=max_body_bytes,
        cors_origins=cors_origins,
        cors_max_age=cors_max_age,
    )
