"""The ASGI lifespan Django lacks: start the client before serving, close it at shutdown.

.. code-block:: python

    # asgi.py
    from django.core.asgi import get_asgi_application

    from flagport_django.asgi import with_lifespan

    application = with_lifespan(get_asgi_application())

Django's ASGI handler refuses the ``lifespan`` scope, so without this the server never
tells the application it stops. uvicorn then ends the process by re-raising the
``SIGTERM`` it drained connections for, and exit hooks do not run: the events still
queued (exposures of the last seconds, or all of them with a slow sink) were lost.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from flagport_django.conf import get_client

__all__ = ["with_lifespan"]

logger = logging.getLogger("flagport")

Scope = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[MutableMapping[str, Any]]]
Send = Callable[[MutableMapping[str, Any]], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]


def with_lifespan(
    application: ASGIApp, *, ready_timeout: float | None = None, close_timeout: float = 5.0
) -> ASGIApp:
    """``application`` (Django's ASGI handler) with a lifespan for the flagport client.

    At start-up it awaits ``client.wait_ready(ready_timeout)`` for the client of
    ``settings.FLAGPORT`` (the provider starts on a thread, the event loop goes on); at
    shutdown, after the server drained its connections, it awaits
    ``client.aclose(close_timeout)``, which delivers the queued events. Every other
    scope goes to ``application``.
    """

    async def lifespan_application(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "lifespan":
            await application(scope, receive, send)
            return
        while True:
            step = str((await receive())["type"]).removeprefix("lifespan.")
            try:
                client = get_client()  # bad settings fail the start-up, with their fix
                if step == "startup":
                    await client.wait_ready(ready_timeout)
                else:
                    await client.aclose(close_timeout)
            except Exception as exc:  # also a strict client whose provider failed to start
                logger.exception("flagport: the ASGI lifespan %s failed", step)
                await send({"type": f"lifespan.{step}.failed", "message": str(exc)})
                return
            await send({"type": f"lifespan.{step}.complete"})
            if step == "shutdown":
                return

    return lifespan_application
