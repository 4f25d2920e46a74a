"""A FastAPI shop using flagport-fastapi.

    uvicorn app:app                      # one process
    uvicorn app:app --workers 2          # two worker processes

The flags file is ``../flags.yaml`` (or ``$FLAGS_FILE``); edits are seen by every
worker without a restart. The lifespan starts the client before the first request
without blocking the event loop, and closes it (delivering queued events) at shutdown.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated, Any

from fastapi import Depends, FastAPI
from starlette.requests import HTTPConnection

from flagport import ConfigResult, ExperimentResult, Flagport, User
from flagport_fastapi import Flags, flagport_lifespan

FLAGS = os.environ.get("FLAGS_FILE", str(Path(__file__).resolve().parent.parent / "flags.yaml"))


def user_from_request(request: HTTPConnection) -> dict[str, Any] | None:
    """The request's user from headers (in your application: a session or a token)."""
    user_id = request.headers.get("X-User-Id")
    if user_id is None:
        return None
    user: dict[str, Any] = {"user_id": user_id}
    for header, field in [("X-Country", "country"), ("X-App-Version", "app_version")]:
        if header in request.headers:
            user[field] = request.headers[header]
    return user


client = Flagport(provider="local", path=FLAGS)
flags = Flags(user_from_request, client=client)
app = FastAPI(lifespan=flagport_lifespan(client))


@app.get("/")
def index(
    new_checkout: Annotated[bool, Depends(flags.gate("new_checkout"))],
    button: Annotated[ExperimentResult, Depends(flags.experiment("button_color"))],
    pricing: Annotated[ConfigResult, Depends(flags.config("pricing"))],
) -> dict[str, Any]:
    return {
        "checkout": "new" if new_checkout else "old",
        "button": button.get("color", "gray"),
        "currency": pricing.get("currency", "USD"),
    }


@app.get("/gate/{name}")
def gate(name: str, user: Annotated[User | None, Depends(flags.user)]) -> dict[str, Any]:
    return {"pid": os.getpid(), "gate": name, "value": client.check_gate(user, name)}
