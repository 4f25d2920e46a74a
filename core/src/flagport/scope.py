"""Request scopes: a current user per request, and exposures de-duplicated per request.

``with flagport.scope(user):`` sets the user that the module-level shortcuts use when
called without one (``flagport.check_gate("new_checkout")``), the way Reddit's
baseplate binds experiments to a request. The scope lives in a
:mod:`contextvars` variable, so each thread and each asyncio task sees its own
(tasks created inside a scope inherit it).
"""

from __future__ import annotations

from contextlib import suppress
from contextvars import ContextVar, Token
from dataclasses import dataclass, field
from types import TracebackType
from typing import TYPE_CHECKING, Any, Generic, TypeVar

if TYPE_CHECKING:
    from flagport.sticky.store import Assignment
    from flagport.user import User, UserLike

__all__ = ["ContextBinding", "Scope", "current_scope", "current_user", "scope"]

T = TypeVar("T")


@dataclass(slots=True)
class Scope:
    """The user of the current request, and what each client did for it.

    One scope serves every client that evaluates in it, so what a client keeps here is
    keyed by the client's own object (its event recorder, its stickiness): two clients
    neither suppress each other's exposures nor read each other's stores.

    :ivar user: None in a scope opened for no user (or, by a non-strict client, for
        an invalid one): shortcuts then serve defaults with ``INVALID_CONTEXT``.
    """

    user: User | None
    #: (client's recorder, flag, group) exposures logged in this request.
    exposed: set[tuple[object, str, str]] = field(default_factory=set)
    #: Sticky assignments read in this request, by (client's stickiness, unit key): the
    #: user's are loaded as the scope opens, others (a company, a device) on first use.
    sticky: dict[tuple[object, str], dict[str, Assignment]] = field(default_factory=dict)
    #: Stored groups resolved in this request, by (client's stickiness, experiment):
    #: (the provider result, the result served).
    sticky_served: dict[tuple[object, str], tuple[Any, Any]] = field(default_factory=dict)

    def first_exposure(self, owner: object, flag: str, group: str) -> bool:
        """True the first time ``owner`` exposes (flag, group) in this scope."""
        key = (owner, flag, group)
        if key in self.exposed:
            return False
        self.exposed.add(key)
        return True


class ContextBinding(Generic[T]):
    """Sets a context variable to a value for a ``with`` block, and back after it.

    A plain object rather than a ``@contextmanager`` generator on purpose: a generator
    left suspended inside its block runs its ``finally`` when it is garbage-collected,
    in whatever context the collection happens to run, where resetting the variable
    raises ``ValueError: <Token> was created in a different Context``. That is what a
    WSGI body iterated but never closed left behind (its scope lives in a
    :class:`contextvars.Context` of its own, which is simply dropped). This object has
    nothing to run when it is dropped, and an exit in another context (a generator of
    the application's that holds the block, finalised by the collector) does nothing.
    """

    __slots__ = ("_token", "_value", "_var", "aprefetch")

    def __init__(self, var: ContextVar[T | None], value: T) -> None:
        self._var = var
        self._value = value
        self._token: Token[T | None] | None = None
        #: An async loader run by ``async with`` before the value is set (sticky
        #: assignments), or None.
        self.aprefetch: Any = None

    def __enter__(self) -> T:
        self._token = self._var.set(self._value)
        return self._value

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        token, self._token = self._token, None
        if token is None:
            return
        # A ValueError means an exit in another Context than the one entered: a generator
        # or coroutine holding the block was finalised by the garbage collector. The value
        # lives only in the Context it was set in, so here there is nothing to undo.
        with suppress(ValueError):
            self._var.reset(token)

    async def __aenter__(self) -> T:
        prefetch: Any = getattr(self, "aprefetch", None)
        if prefetch is not None:
            await prefetch(self._value)
        return self.__enter__()

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.__exit__(exc_type, exc, traceback)


_current: ContextVar[Scope | None] = ContextVar("flagport_scope", default=None)


def scope(user: UserLike | None) -> ContextBinding[Scope]:
    """Make ``user`` the current user until the block ends (nestable).

    Use it as ``with flagport.scope(user) as active:``; ``active`` is the :class:`Scope`.

    :raises InvalidContextError: ``user`` is neither None, a ``User`` nor a valid mapping.
    """
    # Imported here: ``import flagport`` binds this function (its name is also this
    # module's) without loading the pydantic models of flagport.user.
    from flagport.user import as_user

    return ContextBinding(_current, Scope(as_user(user) if user is not None else None))


def current_scope() -> Scope | None:
    """The innermost active scope of this thread or task, if any."""
    return _current.get()


def current_user() -> User | None:
    """The current scope's user, if any."""
    active = _current.get()
    return active.user if active is not None else None
