"""The request middleware: each request runs in ``flagport.scope(user)``.

It works in both of Django's modes: a sync chain under WSGI and an async one under
ASGI. There the user is resolved with ``request.auser()``, a sync user function runs
on a thread, and ``await client.start()`` runs before the first request is served,
as a lifespan start would. A failing user function never breaks the request: it is served
without a scope, with the error policy of :mod:`flagport.middleware`.
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import ExitStack
from typing import Any

from asgiref.sync import iscoroutinefunction, markcoroutinefunction, sync_to_async
from django.http import HttpRequest, HttpResponseBase

from flagport.middleware import _Base as MiddlewareBase
from flagport.user import User, as_user
from flagport_django.conf import default_user_from_request, get_client, user_from_request

__all__ = ["FlagportMiddleware"]

GetResponse = Callable[[HttpRequest], Any]


class FlagportMiddleware(MiddlewareBase):
    """Django middleware opening a flagport scope for the request's user.

    Put it after ``AuthenticationMiddleware``. The user comes from
    ``settings.FLAGPORT["user_from_request"]`` (a function of the request; may be
    ``async`` under ASGI), by default :func:`~flagport_django.default_user_from_request`.
    The client from ``settings.FLAGPORT`` is bound for the request.
    """

    sync_capable = True
    async_capable = True

    def __init__(self, get_response: GetResponse) -> None:
        super().__init__(get_client(), flush=False)
        self.get_response = get_response
        self.user_function = user_from_request()
        self.is_async = iscoroutinefunction(get_response)
        if self.is_async:
            markcoroutinefunction(self)

    def __call__(self, request: HttpRequest) -> Any:
        if self.is_async:
            return self.__acall__(request)
        try:
            user = self._valid(self.user_function(request))
        except Exception as exc:
            self._failed(exc)
            user = None
        with ExitStack() as stack:
            for manager in self._contexts(user):
                stack.enter_context(manager)
            return self.get_response(request)

    async def __acall__(self, request: HttpRequest) -> HttpResponseBase:
        # Django's ASGI handler has no lifespan: the first request of each worker waits
        # (off the event loop) for the start, later ones find it done at once.
        assert self.client is not None
        await self.client.start()
        try:
            user = self._valid(await self._auser(request))
        except Exception as exc:
            self._failed(exc)
            user = None
        with ExitStack() as stack:
            for manager in self._contexts(user):
                stack.enter_context(manager)
            response: HttpResponseBase = await self.get_response(request)
            return response

    async def _auser(self, request: HttpRequest) -> Any:
        function = self.user_function
        if function is default_user_from_request:
            # request.user is lazy and loads from the database: fetch it the async way.
            auser = getattr(request, "auser", None)
            if auser is not None:
                request.user = await auser()
            return function(request)  # no database access left
        if iscoroutinefunction(function):
            return await function(request)
        return await sync_to_async(function)(request)

    @staticmethod
    def _valid(found: Any) -> User | None:
        return as_user(found) if found is not None else None
