"""Plain Starlette over httpx's ASGITransport: lifespan, scope middleware, async user."""

from __future__ import annotations

import asyncio
from pathlib import Path

import httpx
from starlette.applications import Starlette
from starlette.requests import HTTPConnection, Request
from starlette.responses import JSONResponse
from starlette.routing import Route
from web_flags import write_flags

import flagport
from flagport import Flagport
from flagport_fastapi import Flags, ScopeMiddleware, flagport_lifespan


async def user_from_request(request: HTTPConnection) -> dict[str, str] | None:
    await asyncio.sleep(0)  # as a session store lookup would
    user_id = request.headers.get("X-User")
    return {"user_id": user_id} if user_id else None


async def beta(request: Request) -> JSONResponse:
    return JSONResponse({"beta": flagport.check_gate("beta")})


def test_concurrent_requests_each_see_their_own_user(tmp_path: Path) -> None:
    fp = Flagport(
        provider="local", path=str(write_flags(tmp_path / "flags.yaml", beta=True)), watch=False
    )
    app = Starlette(routes=[Route("/beta", beta)], lifespan=flagport_lifespan(fp))
    app.add_middleware(ScopeMiddleware, flags=Flags(user_from_request, client=fp))

    async def run() -> list[object]:
        async with app.router.lifespan_context(app):
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url="http://t") as http:
                replies = await asyncio.gather(
                    *(
                        http.get("/beta", headers={"X-User": str(i)} if i % 2 else {})
                        for i in range(20)
                    )
                )
        return [r.json()["beta"] for r in replies]

    assert asyncio.run(run()) == [bool(i % 2) for i in range(20)]
    assert fp._lifecycle.closed
