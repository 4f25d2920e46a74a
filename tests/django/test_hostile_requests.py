"""Requests whose user is odd: an anonymous session, a custom user model, huge headers."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.models import AnonymousUser
from django.test import Client, RequestFactory, override_settings

import flagport
from flagport.events.model import Event
from flagport_django import default_user_from_request
from flagport_django.conf import get_client


def flags_path() -> str:
    from django.conf import settings

    return str(settings.FLAGPORT["path"])


def test_an_anonymous_session_key_never_reaches_the_events() -> None:
    # The session key is a credential (whoever sends it is logged in as the session):
    # it was the user id itself, "anon:<session key>", in every exposure sent to a sink.
    events: list[Event] = []
    options = {"provider": "local", "path": flags_path(), "watch": False}
    with override_settings(FLAGPORT={**options, "events": {"sinks": [events.append]}}):
        client = Client()
        session = client.session
        session.save()
        key = session.session_key or ""
        client.cookies["sessionid"] = key
        assert client.get("/page/").status_code == 200
        user_id = client.get("/gates/").json()["user_id"]
        get_client().flush()
    assert key
    assert key not in user_id
    assert user_id.startswith("anon:")
    assert events
    assert all(key not in e.model_dump_json() for e in events)
    assert {e.user.user_id for e in events} == {user_id}


class CustomUser:
    """A custom user model on AbstractBaseUser: no is_staff, no is_superuser, no email."""

    pk = 7
    is_authenticated = True


def test_a_custom_user_model_without_staff_fields_is_still_the_user() -> None:
    # It was an AttributeError (user.is_staff), so the request lost its user entirely.
    request = RequestFactory().get("/")
    request.user = CustomUser()  # type: ignore[assignment]
    assert default_user_from_request(request) == {
        "user_id": "7",
        "email": None,
        "custom": {"is_staff": False, "is_superuser": False},
    }


def test_an_anonymous_user_without_a_session_is_no_user() -> None:
    request = RequestFactory().get("/")
    request.user = AnonymousUser()
    assert default_user_from_request(request) is None


def test_huge_headers_and_odd_user_values_never_fail_the_request() -> None:
    def from_headers(request: Any) -> Any:
        kind = request.headers.get("X-Kind")
        if kind == "list":
            return ["not", "a", "user"]
        if kind == "custom":
            return {"user_id": "1", "custom": "not a mapping"}
        return {"user_id": request.headers.get("X-User"), "custom": {"is_staff": True}}

    with override_settings(
        FLAGPORT={"provider": "local", "path": flags_path(), "user_from_request": from_headers}
    ):
        http = Client()
        huge = http.get("/gates/", headers={"X-User": "u" * 60_000}).json()
        odd = [http.get("/gates/", headers={"X-Kind": k}) for k in ("list", "custom")]
    assert huge == {"user_id": "u" * 60_000, "staff_tools": True, "beta": True}
    assert [r.status_code for r in odd] == [200, 200]
    assert [r.json()["user_id"] for r in odd] == [None, None]
    assert flagport.current_user() is None
