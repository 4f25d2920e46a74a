"""Template tags evaluate for the request's user; ``manage.py check`` reports bad setups."""

from __future__ import annotations

from io import StringIO
from pathlib import Path

import pytest
from django.contrib.auth.models import User as DjangoUser
from django.core.management import call_command
from django.core.management.base import SystemCheckError
from django.test import Client, override_settings

from flagport_django.checks import check_flagport


def test_the_tags_render_gates_experiment_values_and_configs() -> None:
    user, _ = DjangoUser.objects.get_or_create(username="bob", defaults={"is_staff": False})
    client = Client()
    client.force_login(user)
    assert client.get("/page/").content.decode() == (
        "staff=False beta=True color=blue banner=Hello missing=gray"
    )


def test_a_good_setup_passes_the_checks() -> None:
    assert check_flagport() == []
    out = StringIO()
    call_command("check", stdout=out)
    assert "no issues" in out.getvalue()


def test_a_bad_flags_file_is_reported_with_its_line(tmp_path: Path) -> None:
    bad = tmp_path / "flags.yaml"
    bad.write_text(
        "version: 1\ngates:\n  beta:\n    rules:\n      - {id: x, pass_percentage: 300}\n"
    )
    with override_settings(FLAGPORT={"provider": "local", "path": bad}):
        (error,) = check_flagport()
        with pytest.raises(SystemCheckError) as raised:
            call_command("check")
    assert error.id == "flagport.E004"
    assert f"{bad}:5 at gates.beta.rules[0].pass_percentage" in error.msg
    assert "flagport validate" in (error.hint or "")
    assert "flagport.E004" in str(raised.value)


def test_bad_options_are_reported_with_a_suggestion(tmp_path: Path) -> None:
    with override_settings(FLAGPORT={"provider": "local", "pth": "flags.yaml"}):
        errors = check_flagport()
    assert [e.id for e in errors] == ["flagport.E003"]
    assert "unknown option 'pth'" in errors[0].msg
    assert "path" in errors[0].msg


def test_a_user_function_that_does_not_import_is_reported() -> None:
    with override_settings(
        FLAGPORT={"provider": "passall", "user_from_request": "nowhere.user_from_request"}
    ):
        errors = check_flagport()
    assert [e.id for e in errors] == ["flagport.E002"]
    assert "settings.FLAGPORT['user_from_request']" in errors[0].msg


def test_flagport_that_is_not_a_dict_is_reported() -> None:
    with override_settings(FLAGPORT="local"):
        (error,) = check_flagport()
    assert error.id == "flagport.E001"
    assert "must be a dict" in error.msg


def test_a_misspelt_user_from_request_is_named_with_the_right_key() -> None:
    # The client's error listed its own options only ("valid options: ['gate_value',
    # 'max_events']"), never the key the integration takes.
    with override_settings(FLAGPORT={"provider": "passall", "user_from_reqest": "a.b"}):
        errors = check_flagport()
    assert [e.id for e in errors] == ["flagport.E003"]
    assert "unknown key 'user_from_reqest'; did you mean 'user_from_request'?" in errors[0].msg
