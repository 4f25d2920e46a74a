"""FastAPI dependencies: the request's user, a gate's answer, an experiment's result."""

from __future__ import annotations

import inspect
import itertools
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from starlette.requests import HTTPConnection

import flagport
from flagport import ConfigResult, ExperimentResult, Flagport, InvalidContextError, User
from flagport.middleware import _Base as UserErrors
from flagport.user import UserLike, as_user

__all__ = ["Flags", "UserFromRequest"]

UserFromRequest = Callable[[HTTPConnection], UserLike | Awaitable[UserLike | None] | None]
#: Where a request's user is kept, followed by the Flags' own number: two Flags with two
#: user functions in one request each get their own user.
_CACHE = "flagport_user"
_numbers = itertools.count(1)


class Flags:
    """Dependencies evaluating for the request's user.

    .. code-block:: python

        flags = Flags(lambda request: {"user_id": request.headers["X-User"]})

        @app.get("/checkout")
        def checkout(new: bool = Depends(flags.gate("new_checkout"))): ...

    :param user_from_request: the request's user (may be ``async``), or None for no
        user (the gate's default). It runs once per request, whatever the number of
        dependencies. An exception it raises propagates (FastAPI answers 500): an
        authentication failure belongs to your own dependency, not to the flags. What it
        returns that is no valid user (a list, ``custom`` that is not a mapping) is no
        user: the request is served the defaults and the first such error is logged, as
        by :mod:`flagport.middleware` (a ``strict`` client raises
        :class:`~flagport.InvalidContextError`).
    :param client: the client; by default :func:`flagport.current_client`.
    """

    def __init__(self, user_from_request: UserFromRequest, *, client: Flagport | None = None):
        self.user_from_request = user_from_request
        self.client = client
        self._cache = f"{_CACHE}_{next(_numbers)}"
        # The middleware's policy for an invalid user: counted, the first one logged.
        self._user_errors = UserErrors(None, flush=False)

    @property
    def user_errors(self) -> int:
        """How many requests got no user because the function returned an invalid one."""
        return self._user_errors.user_errors

    def _client(self) -> Flagport:
        return self.client if self.client is not None else flagport.current_client()

    async def user(self, request: HTTPConnection) -> User | None:
        """Dependency: the request's user (``Depends(flags.user)``)."""
        state = request.state
        if hasattr(state, self._cache):
            cached: User | None = getattr(state, self._cache)
            return cached
        found = self.user_from_request(request)
        if inspect.isawaitable(found):
            found = await found
        try:
            user = as_user(found) if found is not None else None
        except InvalidContextError as exc:
            if self._client().strict:
                raise
            self._user_errors._failed(exc)
            user = None
        setattr(state, self._cache, user)
        return user

    async def _who(self, request: HTTPConnection) -> Any:
        # None (no user) is served the default with INVALID_CONTEXT, as by the
        # module-level shortcuts outside a scope; the client's signature says UserLike.
        return await self.user(request)

    def gate(self, name: str, *, default: bool = False) -> Callable[..., Awaitable[bool]]:
        """Dependency factory: the gate's answer (``Depends(flags.gate("x"))``)."""

        async def gate(request: HTTPConnection) -> bool:
            return self._client().check_gate(await self._who(request), name, default=default)

        return gate

    def experiment(
        self, name: str, *, default: Mapping[str, Any] | None = None
    ) -> Callable[..., Awaitable[ExperimentResult]]:
        """Dependency factory: the experiment's result; logs the exposure."""

        async def experiment(request: HTTPConnection) -> ExperimentResult:
            user = await self._who(request)
            return self._client().get_experiment(user, name, default=default)

        return experiment

    def config(
        self, name: str, *, default: Mapping[str, Any] | None = None
    ) -> Callable[..., Awaitable[ConfigResult]]:
        """Dependency factory: the dynamic config for the request's user."""

        async def config(request: HTTPConnection) -> ConfigResult:
            return self._client().get_config(await self._who(request), name, default=default)

        return config
