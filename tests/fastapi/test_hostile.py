"""FastAPI dependencies under odd users, and the lifespan run twice."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import pytest
from fastapi import Depends, FastAPI
from fastapi.testclient import TestClient
from starlette.requests import HTTPConnection
from web_flags import write_flags

from flagport import ConfigurationError, Flagport, InvalidContextError, User
from flagport_fastapi import Flags, flagport_lifespan


def odd_user(request: HTTPConnection) -> Any:
    """The user a header asks for: a valid one, or values that are no user."""
    kind = request.headers.get("X-Kind", "")
    if kind == "list":
        return ["not", "a", "user"]
    if kind == "custom":
        return {"user_id": "1", "custom": request.headers.get("X-Custom")}
    return {"user_id": request.headers.get("X-User", "1")}


def make_app(fp: Flagport, flags: Flags) -> FastAPI:
    app = FastAPI(lifespan=flagport_lifespan(fp))

    @app.get("/beta")
    async def beta(on: bool = Depends(flags.gate("beta"))) -> dict[str, Any]:
        return {"beta": on}

    return app


@pytest.fixture
def fp(tmp_path: Path) -> Flagport:
    path = write_flags(tmp_path / "flags.yaml", beta=True)
    return Flagport(provider="local", path=str(path), watch=False)


def test_a_user_function_returning_no_valid_user_serves_the_defaults(
    fp: Flagport, caplog: pytest.LogCaptureFixture
) -> None:
    # It was a 500: as_user's InvalidContextError went out of the dependency, although
    # the function itself did not raise and evaluations never raise unless strict.
    flags = Flags(odd_user, client=fp)
    with TestClient(make_app(fp, flags)) as http, caplog.at_level(logging.DEBUG, "flagport"):
        good = http.get("/beta", headers={"X-User": "u" * 100_000})
        odd = [http.get("/beta", headers={"X-Kind": k}) for k in ("list", "custom", "list")]
    assert good.json() == {"beta": True}
    assert [r.status_code for r in odd] == [200, 200, 200]
    assert [r.json() for r in odd] == [{"beta": False}] * 3  # no user: the default
    assert flags.user_errors == 3
    logged = [r for r in caplog.records if "no user for the request" in r.getMessage()]
    assert [r.levelname for r in logged] == ["ERROR", "DEBUG", "DEBUG"]
    assert "InvalidContextError" in logged[0].getMessage()


def test_a_strict_client_raises_for_a_user_that_is_no_user(tmp_path: Path) -> None:
    path = write_flags(tmp_path / "flags.yaml", beta=True)
    strict = Flagport(provider="local", path=str(path), watch=False, strict=True)
    app = make_app(strict, Flags(odd_user, client=strict))
    with TestClient(app) as http, pytest.raises(InvalidContextError):
        http.get("/beta", headers={"X-Kind": "list"})


def test_a_second_run_with_the_closed_client_says_how_to_fix_it(fp: Flagport) -> None:
    # As pytest runs it with one TestClient(app) per test: the first run's shutdown
    # closed the client, and the second start-up failed with "this flagport client was
    # shut down" (ProviderNotReadyError), naming neither the cause nor the fix.
    app = make_app(fp, Flags(odd_user, client=fp))
    with TestClient(app) as http:
        assert http.get("/beta").json() == {"beta": True}
    with pytest.raises(ConfigurationError) as raised, TestClient(app):
        pass
    assert "closed when an earlier run of this lifespan ended" in str(raised.value)
    assert "one client per application run" in str(raised.value)


def test_two_flags_with_two_user_functions_each_see_their_own_user(fp: Flagport) -> None:
    # Both cached the user under one request.state name: the second Flags of a request
    # was given the first one's user (here the account for the device, silently).
    by_account = Flags(lambda r: {"user_id": r.headers["X-Account"]}, client=fp)
    by_device = Flags(lambda r: {"user_id": r.headers["X-Device"]}, client=fp)
    app = FastAPI(lifespan=flagport_lifespan(fp))

    @app.get("/who")
    async def who(
        account: User | None = Depends(by_account.user),  # noqa: B008
        device: User | None = Depends(by_device.user),  # noqa: B008
    ) -> list[str | None]:
        return [u.user_id if u else None for u in (account, device)]

    with TestClient(app) as http:
        assert http.get("/who", headers={"X-Account": "a1", "X-Device": "d1"}).json() == [
            "a1",
            "d1",
        ]
