"""A Django project configured in process: auth, sessions, the flagport app.

Configured when this file is imported, before the test modules import Django's models.
"""

from __future__ import annotations

import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import django
import pytest
from django.conf import settings
from django.core.management import call_command
from django.test.utils import setup_test_environment
from web_flags import write_flags

HERE = Path(__file__).resolve().parent
WORK = Path(tempfile.mkdtemp(prefix="flagport-django-"))
FLAGS = write_flags(WORK / "flags.yaml", beta=True)

if not settings.configured:
    sys.path.insert(0, str(HERE))
    settings.configure(
        DEBUG=False,
        SECRET_KEY="flagport-tests",
        ALLOWED_HOSTS=["testserver"],
        INSTALLED_APPS=[
            "django.contrib.contenttypes",
            "django.contrib.auth",
            "django.contrib.sessions",
            "flagport_django",
        ],
        MIDDLEWARE=[
            "django.contrib.sessions.middleware.SessionMiddleware",
            "django.contrib.auth.middleware.AuthenticationMiddleware",
            "flagport_django.middleware.FlagportMiddleware",
        ],
        ROOT_URLCONF="views_for_tests",
        DATABASES={
            "default": {"ENGINE": "django.db.backends.sqlite3", "NAME": str(WORK / "db.sqlite3")}
        },
        TEMPLATES=[{"BACKEND": "django.template.backends.django.DjangoTemplates"}],
        FLAGPORT={"provider": "local", "path": FLAGS, "watch": False},
        USE_TZ=True,
    )
    django.setup()
    setup_test_environment()
    call_command("migrate", verbosity=0)

from flagport_django.conf import reset_client  # noqa: E402  (needs the settings)


@pytest.fixture(autouse=True)
def fresh_client() -> Iterator[None]:
    reset_client()
    yield
    reset_client()
