"""Request scopes for web applications: WSGI (PEP 3333) and ASGI 3 middleware.

Wrap the application once and every request runs inside ``flagport.scope(user)``, so
handlers call the module-level shortcuts without a user (``flagport.check_gate("x")``)
and exposures are de-duplicated per request. Plain callables, no framework imports:
they serve Flask, Django, FastAPI/Starlette, Quart and anything else that speaks WSGI
or ASGI.

A failing user callable never breaks the request: the request is served without a
scope (shortcuts then give defaults with ``INVALID_CONTEXT``) and the error is logged.
"""

from __future__ import annotations

import asyncio
import contextvars
import inspect
import itertools
import logging
from collections.abc import Awaitable, Callable, Iterable, Iterator, MutableMapping
from contextlib import AbstractContextManager, ExitStack
from typing import Any
from wsgiref.types import StartResponse, WSGIApplication, WSGIEnvironment

from flagport._global import bind_client
from flagport._global import flush as flush_global
from flagport.client import Flagport
from flagport.scope import scope
from flagport.user import User, UserLike, as_user

__all__ = ["ASGIApp", "FlagportASGIMiddleware", "FlagportWSGIMiddleware"]

logger = logging.getLogger("flagport")

ASGIScope = MutableMapping[str, Any]
ASGIMessage = MutableMapping[str, Any]
ASGIReceive = Callable[[], Awaitable[ASGIMessage]]
ASGISend = Callable[[ASGIMessage], Awaitable[None]]
ASGIApp = Callable[[ASGIScope, ASGIReceive, ASGISend], Awaitable[None]]


class _Base:
    """What both middlewares share: the user callable's error policy and the scope."""

    def __init__(self, client: Flagport | None, flush: bool) -> None:
        self.client = client
        self.flush = flush
        #: How many requests got no user because the callable raised or gave an invalid one.
        self.user_errors = 0
        # next() on a count is atomic, so exactly one thread logs the first failure.
        self._failures = itertools.count(1)

    def _failed(self, exc: BaseException) -> None:
        self.user_errors = failure = next(self._failures)
        if failure == 1:
            logger.error(
                "flagport middleware: no user for the request (%s); serving it without a "
                "scope. Logged once; later failures at DEBUG",
                type(exc).__name__,
                exc_info=exc,
            )
        else:
            logger.debug("flagport middleware: no user for the request: %r", exc)

    def _contexts(self, user: User | None) -> list[AbstractContextManager[Any]]:
        entered: list[AbstractContextManager[Any]] = []
        if self.client is not None:
            entered.append(bind_client(self.client))
        if user is not None:
            entered.append(scope(user))
        return entered

    def _flush(self) -> None:
        try:
            if self.client is not None:
                self.client.flush()
            else:
                flush_global()
        except Exception:  # the response is already out: report, never raise
            logger.exception("flagport middleware: flush after the request failed")


class FlagportWSGIMiddleware(_Base):
    """Run each WSGI request inside ``flagport.scope(user_from_environ(environ))``.

    The scope covers the application call and the whole iteration of the response
    body, up to its ``close()``. It lives in a :class:`contextvars.Context` of its own
    that is entered around each step, so it never leaks into the server thread's
    context, even if a server forgets to call ``close()``: such a body is then
    garbage-collected with its Context, silently (the bindings entered in it run
    nothing when dropped; see :class:`~flagport.scope.ContextBinding`), and
    ``flush`` does not happen for it.

    :param app: the WSGI application to wrap.
    :param user_from_environ: the request's user (a :class:`~flagport.User` or a dict),
        or None for no scope.
    :param client: a client bound for the request: :func:`flagport.current_client` and
        the module-level shortcuts use it instead of the process-wide client.
    :param flush: flush events (of ``client``, else of the process-wide client) after
        each response, for short-lived processes.
    """

    def __init__(
        self,
        app: WSGIApplication,
        user_from_environ: Callable[[WSGIEnvironment], UserLike | None],
        *,
        client: Flagport | None = None,
        flush: bool = False,
    ) -> None:
        super().__init__(client, flush)
        self.app = app
        self.user_from_environ = user_from_environ

    def __call__(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        try:
            found = self.user_from_environ(environ)
            # Validate here, so that a bad user dict is a user error, not a failed request.
            user = as_user(found) if found is not None else None
        except Exception as exc:
            self._failed(exc)
            user = None
        entered = self._contexts(user)
        if not entered and not self.flush:
            return self.app(environ, start_response)
        context = contextvars.copy_context()
        stack = ExitStack()
        for manager in entered:
            context.run(stack.enter_context, manager)
        try:
            body = context.run(self.app, environ, start_response)
        except BaseException:
            self._finish(context, stack)
            raise
        if isinstance(body, (list, tuple)):
            # Already computed and nothing to close: end the scope now and keep the
            # list, so the server can still set Content-Length from it.
            self._finish(context, stack)
            return body
        return _ScopedBody(body, context, lambda: self._finish(context, stack))

    def _finish(self, context: contextvars.Context, stack: ExitStack) -> None:
        context.run(stack.close)
        if self.flush:
            self._flush()


class _ScopedBody:
    """A response body whose iteration and ``close()`` run inside the request's context."""

    def __init__(
        self, body: Iterable[bytes], context: contextvars.Context, finish: Callable[[], None]
    ) -> None:
        self._body = body
        self._iterator: Iterator[bytes] | None = None
        self._context = context
        self._finish: Callable[[], None] | None = finish

    def __iter__(self) -> Iterator[bytes]:
        return self

    def __next__(self) -> bytes:
        if self._iterator is None:
            self._iterator = self._context.run(iter, self._body)
        return self._context.run(next, self._iterator)

    def close(self) -> None:
        finish, self._finish = self._finish, None
        if finish is None:  # closed already
            return
        try:
            close = getattr(self._body, "close", None)
            if close is not None:
                self._context.run(close)
        finally:
            finish()


class FlagportASGIMiddleware(_Base):
    """Run each ASGI ``http`` and ``websocket`` connection inside ``flagport.scope(user)``.

    The scope covers the whole application coroutine, streamed responses and
    websocket sessions included; every other scope type (``lifespan``) passes through.
    Concurrent requests each see their own user: servers run every request in a task
    of its own, and the scope lives in a :mod:`contextvars` variable.

    :param app: the ASGI 3 application to wrap.
    :param user_from_scope: the request's user from the ASGI scope, or None for no
        scope; may be a coroutine function.
    :param client: a client bound for the request (see :class:`FlagportWSGIMiddleware`).
    :param flush: flush events after each request, on a worker thread.
    """

    def __init__(
        self,
        app: ASGIApp,
        user_from_scope: Callable[[ASGIScope], UserLike | Awaitable[UserLike | None] | None],
        *,
        client: Flagport | None = None,
        flush: bool = False,
    ) -> None:
        super().__init__(client, flush)
        self.app = app
        self.user_from_scope = user_from_scope

    async def __call__(self, scope: ASGIScope, receive: ASGIReceive, send: ASGISend) -> None:
        if scope.get("type") not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        try:
            found = self.user_from_scope(scope)
            if inspect.isawaitable(found):
                found = await found
            user = as_user(found) if found is not None else None
        except Exception as exc:
            self._failed(exc)
            user = None
        try:
            with ExitStack() as stack:
                for manager in self._contexts(user):
                    stack.enter_context(manager)
                await self.app(scope, receive, send)
        finally:
            if self.flush:
                await asyncio.to_thread(self._flush)
