"""A Starlette middleware running each request in ``flagport.scope(user)``."""

from __future__ import annotations

from typing import Any

from starlette.requests import HTTPConnection
from starlette.types import ASGIApp

from flagport.middleware import FlagportASGIMiddleware
from flagport_fastapi.dependencies import Flags

__all__ = ["ScopeMiddleware"]


class ScopeMiddleware(FlagportASGIMiddleware):
    """``app.add_middleware(ScopeMiddleware, flags=flags)``: the user of ``flags`` as the
    scope of each HTTP and websocket connection, and its client bound for it.

    The user function sees a Starlette ``HTTPConnection`` (headers, cookies, path; not
    the body). A failing one never breaks the request (see :mod:`flagport.middleware`).
    """

    def __init__(self, app: ASGIApp, *, flags: Flags, flush: bool = False) -> None:
        async def user_from_scope(scope: Any) -> Any:
            return await flags.user(HTTPConnection(scope))

        super().__init__(app, user_from_scope, client=flags.client, flush=flush)
