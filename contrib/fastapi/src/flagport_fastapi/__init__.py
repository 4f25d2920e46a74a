"""FastAPI and Starlette integration for flagport.

``FastAPI(lifespan=flagport_lifespan(fp))`` starts the client without blocking the
event loop before the first request and closes it (``aclose``) at shutdown;
``Flags(user_from_request)`` gives handlers dependencies for the request's user, a
gate's answer, an experiment's result and a config; ``ScopeMiddleware`` runs every
request in ``flagport.scope(user)`` for code that calls the module-level shortcuts.
"""

from __future__ import annotations

from flagport_fastapi.dependencies import Flags, UserFromRequest
from flagport_fastapi.lifespan import flagport_lifespan
from flagport_fastapi.middleware import ScopeMiddleware

__all__ = ["Flags", "ScopeMiddleware", "UserFromRequest", "flagport_lifespan"]
