"""Each request runs in a scope for request.user, under WSGI (Client) and ASGI (AsyncClient)."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import pytest
from django.contrib.auth.models import User as DjangoUser
from django.test import AsyncClient, Client, override_settings

import flagport
from flagport_django.conf import anonymous_id


@pytest.fixture
def staff() -> DjangoUser:
    user, _ = DjangoUser.objects.get_or_create(
        username="ada", defaults={"email": "ada@example.com", "is_staff": True}
    )
    return user


def test_a_staff_user_gets_the_staff_gate(staff: DjangoUser) -> None:
    client = Client()
    client.force_login(staff)
    assert client.get("/gates/").json() == {
        "user_id": str(staff.pk),
        "staff_tools": True,
        "beta": True,
    }


def test_an_anonymous_visitor_with_a_session_is_a_stable_user() -> None:
    client = Client()
    client.cookies["sessionid"] = ""
    session = client.session
    session.save()
    client.cookies["sessionid"] = session.session_key or ""
    body = client.get("/gates/").json()
    assert body["user_id"] == anonymous_id(session.session_key or "")
    assert client.get("/gates/").json()["user_id"] == body["user_id"]
    assert body["staff_tools"] is False


def test_an_anonymous_visitor_without_a_session_gets_defaults() -> None:
    assert Client().get("/gates/").json() == {
        "user_id": None,
        "staff_tools": False,
        "beta": False,  # no user: the default, not the rule's answer
    }


def test_nothing_leaks_out_of_the_request(staff: DjangoUser) -> None:
    client = Client()
    client.force_login(staff)
    client.get("/gates/")
    assert flagport.current_user() is None


def test_a_configured_user_function_is_used() -> None:
    with override_settings(
        FLAGPORT={
            "provider": "local",
            "path": flagport_path(),
            "watch": False,
            "user_from_request": lambda request: {
                "user_id": request.headers["X-User"],
                "custom": {"is_staff": True},
            },
        }
    ):
        body = Client().get("/gates/", headers={"X-User": "7"}).json()
    assert body == {"user_id": "7", "staff_tools": True, "beta": True}


def test_a_failing_user_function_serves_the_request_without_a_scope(
    caplog: pytest.LogCaptureFixture,
) -> None:
    def broken(request: Any) -> None:
        raise RuntimeError("session store down")

    with (
        override_settings(
            FLAGPORT={"provider": "local", "path": flagport_path(), "user_from_request": broken}
        ),
        caplog.at_level(logging.ERROR, logger="flagport"),
    ):
        response = Client().get("/gates/")
    assert response.status_code == 200
    assert response.json()["user_id"] is None
    assert "no user for the request (RuntimeError)" in caplog.text


def test_under_asgi_the_async_chain_resolves_the_user(staff: DjangoUser) -> None:
    async def run() -> list[dict[str, Any]]:
        client = AsyncClient()
        await client.aforce_login(staff)
        answers = await asyncio.gather(
            *(client.get(p) for p in ["/async-gates/", "/gates/", "/async-gates/"])
        )
        anonymous = await AsyncClient().get("/async-gates/")
        return [a.json() for a in answers] + [anonymous.json()]

    *logged_in, anonymous = asyncio.run(run())
    assert logged_in == [{"user_id": str(staff.pk), "staff_tools": True, "beta": True}] * 3
    assert anonymous == {"user_id": None, "staff_tools": False, "beta": False}


def test_an_async_user_function_is_awaited_under_asgi() -> None:
    async def user(request: Any) -> dict[str, str]:
        await asyncio.sleep(0)
        return {"user_id": "async-42"}

    with override_settings(
        FLAGPORT={"provider": "local", "path": flagport_path(), "user_from_request": user}
    ):
        body = asyncio.run(AsyncClient().get("/async-gates/")).json()
    assert body["user_id"] == "async-42"


def flagport_path() -> str:
    from django.conf import settings

    return str(settings.FLAGPORT["path"])
