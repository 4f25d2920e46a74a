"""FastAPI: the lifespan starts and closes the client; dependencies evaluate per request."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest
from fastapi import Depends, FastAPI
from fastapi.testclient import TestClient
from starlette.requests import HTTPConnection
from web_flags import write_flags

import flagport
from flagport import ExperimentResult, Flagport, User
from flagport_fastapi import Flags, ScopeMiddleware, flagport_lifespan


def user_from_request(request: HTTPConnection) -> dict[str, Any] | None:
    user_id = request.headers.get("X-User")
    if user_id is None:
        return None
    return {"user_id": user_id, "custom": {"is_staff": user_id == "admin"}}


@pytest.fixture
def client(tmp_path: Path) -> Flagport:
    return Flagport(
        provider="local", path=str(write_flags(tmp_path / "flags.yaml", beta=True)), watch=False
    )


def make_app(fp: Flagport, calls: list[str] | None = None) -> FastAPI:
    seen = calls if calls is not None else []

    def counted(request: HTTPConnection) -> dict[str, Any] | None:
        seen.append(request.url.path)
        return user_from_request(request)

    flags = Flags(counted, client=fp)
    app = FastAPI(lifespan=flagport_lifespan(fp))

    @app.get("/checkout")
    def checkout(
        # Defaults, not Annotated[...]: a string annotation cannot name this local flags.
        user: User | None = Depends(flags.user),  # noqa: B008
        staff: bool = Depends(flags.gate("staff_tools")),
        beta: bool = Depends(flags.gate("beta")),
        color: ExperimentResult = Depends(flags.experiment("button_color")),  # noqa: B008
    ) -> dict[str, Any]:
        return {
            "user_id": user.user_id if user else None,
            "staff_tools": staff,
            "beta": beta,
            "color": color.get("color", "gray"),
        }

    return app


def test_the_lifespan_starts_before_serving_and_closes_at_shutdown(client: Flagport) -> None:
    app = make_app(client)
    with TestClient(app) as http:
        assert client.provider.status.name == "READY"  # started by the lifespan
        assert http.get("/checkout", headers={"X-User": "admin"}).json() == {
            "user_id": "admin",
            "staff_tools": True,
            "beta": True,
            "color": "blue",
        }
    assert client._lifecycle.closed


def test_the_user_function_runs_once_per_request(client: Flagport) -> None:
    calls: list[str] = []
    with TestClient(make_app(client, calls)) as http:
        http.get("/checkout", headers={"X-User": "ann"})
        http.get("/checkout")
    assert calls == ["/checkout", "/checkout"]


def test_an_anonymous_request_gets_the_defaults(client: Flagport) -> None:
    with TestClient(make_app(client)) as http:
        assert http.get("/checkout").json() == {
            "user_id": None,
            "staff_tools": False,
            "beta": False,
            "color": "gray",
        }


def test_the_lifespan_runs_the_apps_own_lifespan_inside(client: Flagport) -> None:
    events: list[str] = []

    @asynccontextmanager
    async def own(app: FastAPI) -> AsyncIterator[None]:
        events.append(f"start, ready={client.provider.status.name}")
        yield
        events.append("stop")

    app = FastAPI(lifespan=flagport_lifespan(client, then=own))
    with TestClient(app):
        pass
    assert events == ["start, ready=READY", "stop"]


def test_the_scope_middleware_serves_the_module_level_shortcuts(
    client: Flagport, caplog: pytest.LogCaptureFixture
) -> None:
    def user(request: HTTPConnection) -> dict[str, Any] | None:
        if request.headers.get("X-User") == "broken":
            raise ValueError("bad token")
        return user_from_request(request)

    app = FastAPI(lifespan=flagport_lifespan(client))
    app.add_middleware(ScopeMiddleware, flags=Flags(user, client=client))

    @app.get("/gates")
    async def gates() -> dict[str, Any]:
        current = flagport.current_user()
        return {
            "user_id": current.user_id if current else None,
            "staff_tools": flagport.check_gate("staff_tools"),
        }

    with TestClient(app) as http, caplog.at_level(logging.ERROR, logger="flagport"):
        assert http.get("/gates", headers={"X-User": "admin"}).json() == {
            "user_id": "admin",
            "staff_tools": True,
        }
        assert http.get("/gates", headers={"X-User": "broken"}).json() == {
            "user_id": None,
            "staff_tools": False,
        }
    assert "no user for the request (ValueError)" in caplog.text
