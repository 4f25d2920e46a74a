"""The Flask extension: a scope per request for the configured user, template globals."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import pytest
from flask import Flask, render_template_string, request, session
from web_flags import write_flags

import flagport
from flagport import ConfigurationError, Flagport
from flagport_flask import FlagportExtension

PAGE = (
    "staff={{ flag_gate('staff_tools') }} beta={{ flag_gate('beta') }} "
    "color={{ experiment_value('button_color', 'color', 'gray') }} "
    "banner={{ config_value('banner', 'text', '') }}"
)


def user_from_request() -> dict[str, Any] | None:
    user_id = session.get("user_id") or request.headers.get("X-User")
    if user_id is None:
        return None
    return {"user_id": user_id, "custom": {"is_staff": user_id == "admin"}}


def make_app(flags: Path, **extension: Any) -> Flask:
    app = Flask(__name__)
    app.config.update(
        SECRET_KEY="tests", FLAGPORT={"provider": "local", "path": flags, "watch": False}
    )
    ext = FlagportExtension(**extension)
    ext.init_app(app)

    @app.get("/gates")
    def gates() -> dict[str, Any]:
        user = flagport.current_user()
        return {
            "user_id": user.user_id if user else None,
            "staff_tools": flagport.check_gate("staff_tools"),
            "client_is_the_apps": flagport.current_client() is ext.client,
        }

    @app.get("/login/<name>")
    def login(name: str) -> str:
        session["user_id"] = name
        return "ok"

    @app.get("/page")
    def page() -> str:
        return render_template_string(PAGE)

    @app.get("/boom")
    def boom() -> str:
        raise RuntimeError("view failed")

    return app


@pytest.fixture
def flags(tmp_path: Path) -> Path:
    return write_flags(tmp_path / "flags.yaml", beta=True)


def test_the_configured_user_is_the_scope_of_each_request(flags: Path) -> None:
    client = make_app(flags, user_from_request=user_from_request).test_client()
    assert client.get("/gates").json == {
        "user_id": None,
        "staff_tools": False,
        "client_is_the_apps": True,
    }
    client.get("/login/admin")
    assert client.get("/gates").json == {
        "user_id": "admin",
        "staff_tools": True,
        "client_is_the_apps": True,
    }
    assert client.get("/gates", headers={"X-User": "x"}).json["user_id"] == "admin"
    assert flagport.current_user() is None


def test_templates_get_gates_experiment_values_and_configs(flags: Path) -> None:
    client = make_app(flags, user_from_request=user_from_request).test_client()
    page = client.get("/page", headers={"X-User": "admin"}).text
    assert page == "staff=True beta=True color=blue banner=Hello"
    assert client.get("/page").text == "staff=False beta=False color=gray banner="  # no user


def test_a_failing_view_still_closes_the_scope(flags: Path) -> None:
    app = make_app(flags, user_from_request=user_from_request)
    app.config["PROPAGATE_EXCEPTIONS"] = False
    client = app.test_client()
    assert client.get("/boom", headers={"X-User": "a"}).status_code == 500
    assert flagport.current_user() is None
    assert client.get("/gates").json["user_id"] is None


def test_a_failing_user_function_serves_the_request_without_a_scope(
    flags: Path, caplog: pytest.LogCaptureFixture
) -> None:
    def broken() -> None:
        raise LookupError("no session backend")

    client = make_app(flags, user_from_request=broken).test_client()
    with caplog.at_level(logging.ERROR, logger="flagport"):
        response = client.get("/gates")
    assert response.status_code == 200
    assert response.json["user_id"] is None
    assert "no user for the request (LookupError)" in caplog.text


def test_a_given_client_is_served(flags: Path) -> None:
    mine = Flagport(provider="passall")
    app = make_app(flags, client=mine, user_from_request=lambda: {"user_id": "1"})
    assert app.extensions["flagport"].client is mine
    assert app.test_client().get("/gates").json["staff_tools"] is True  # passall


def test_bad_options_fail_at_init_app_with_their_fix(flags: Path) -> None:
    app = Flask(__name__)
    app.config["FLAGPORT"] = {"provider": "local", "pth": str(flags)}
    with pytest.raises(ConfigurationError, match="unknown option 'pth'"):
        FlagportExtension(app)


def test_a_config_that_is_not_a_dict_says_what_it_takes() -> None:
    # app.config["FLAGPORT"] = "local" was a ValueError from dict(): "dictionary update
    # sequence element #0 has length 1; 2 is required".
    app = Flask(__name__)
    app.config["FLAGPORT"] = "local"
    with pytest.raises(ConfigurationError) as info:
        FlagportExtension(app)
    assert str(info.value) == (
        'app.config["FLAGPORT"] must be a dict of flagport.Flagport arguments, e.g. '
        '{"provider": "local", "path": "flags.yaml"}; got str'
    )
