"""A lifespan that starts the client before serving and closes it at shutdown."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import Any, TypeVar

import flagport
from flagport import ConfigurationError, Flagport

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
    ``client.aclose(close_timeout)``, which delivers the queued events. A closed client
    cannot start again: a second run with it (a second ``TestClient(app)``) is a
    :class:`~flagport.ConfigurationError` saying so.

    :param client: the client; by default the process-wide one (``flagport.setup``).
    :param then: the application's own lifespan, run inside this one.
    """

    @asynccontextmanager
    async def lifespan(app: AppT) -> AsyncIterator[None]:
        served = client if client is not None else flagport.get_client()
        if served.closed:
            raise ConfigurationError(
                "flagport_lifespan: the client was closed when an earlier run of this "
                "lifespan ended (each run closes it at shutdown, and a closed client "
                "cannot start again): build one client per application run, e.g. in the "
                "application factory that each test client starts"
            )
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
