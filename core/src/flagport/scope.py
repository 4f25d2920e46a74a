"""Request scopes: a current user per request, and exposures de-duplicated per request.

``with flagport.scope(user):`` sets the user that the module-level shortcuts use when
called without one (``flagport.check_gate("new_checkout")``), the way Reddit's
baseplate binds experiments to a request. The scope lives in a
:mod:`contextvars` variable, so each thread and each asyncio task sees its own
(tasks created inside a scope inherit it).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field

from flagport.user import User, UserLike, as_user

__all__ = ["Scope", "current_scope", "current_user", "scope"]


@dataclass(slots=True)
class Scope:
    """The user of the current request and the exposures already logged in it.

    :ivar user: None in a scope opened for no user (or, by a non-strict client, for
        an invalid one): shortcuts then serve defaults with ``INVALID_CONTEXT``.
    """

    user: User | None
    exposed: set[tuple[str, str]] = field(default_factory=set)

    def first_exposure(self, flag: str, group: str) -> bool:
        """True the first time (flag, group) is exposed in this scope."""
        key = (flag, group)
        if key in self.exposed:
            return False
        self.exposed.add(key)
        return True


_current: ContextVar[Scope | None] = ContextVar("flagport_scope", default=None)


@contextmanager
def scope(user: UserLike | None) -> Iterator[Scope]:
    """Make ``user`` the current user until the block ends (nestable).

    :raises InvalidContextError: ``user`` is neither None, a ``User`` nor a valid mapping.
    """
    token = _current.set(Scope(as_user(user) if user is not None else None))
    try:
        yield _current.get()  # type: ignore[misc]
    finally:
        _current.reset(token)


def current_scope() -> Scope | None:
    """The innermost active scope of this thread or task, if any."""
    return _current.get()


def current_user() -> User | None:
    """The current scope's user, if any."""
    active = _current.get()
    return active.user if active is not None else None
