"""A lifespan that starts the client before serving and closes it at shutdown."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import Any, TypeVar

import flagport
from flagport import Flagport

__all__ = ["flagport_lifespan"]

AppT = TypeVar("AppT")


def flagport_lifespan(
    client: Flagport | None = None,
    *,
    ready_timeout: float | None = None,
    close_timeout: float = 5.0,
    then: Callable[[AppT], AbstractAsyncContextManager[Any]] | None = None,
) -> Callable[[AppT], AbstractAsyncContextManager[None]]:
    """A lifespan for ``FastAPI(lifespan=...)`` / ``Starlette(lifespan=...)``.

    On start-up it awaits ``client.wait_ready(ready_timeout)`` (the provider starts on a
    thread, the event loop goes on; ``None``: until its start finished, a vendor that
    does not answer included, as far as its own timeout); at shutdown it awaits
    ``client.aclose(close_timeout)``, which delivers the queued events.

    :param client: the client; by default the process-wide one (``flagport.setup``).
    :param then: the application's own lifespan, run inside this one.
    """

    @asynccontextmanager
    async def lifespan(app: AppT) -> AsyncIterator[None]:
        served = client if client is not None else flagport.get_client()
        await served.wait_ready(ready_timeout)
        try:
            if then is None:
                yield
            else:
                async with then(app):
                    yield
        finally:
            await served.aclose(close_timeout)

    return lifespan
