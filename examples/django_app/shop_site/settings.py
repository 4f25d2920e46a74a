"""Settings of the example shop: the flagport app, its middleware and FLAGPORT."""

from __future__ import annotations

import os
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent
SECRET_KEY = "example-only-not-secret"
DEBUG = False
ALLOWED_HOSTS = ["127.0.0.1", "localhost", "testserver"]
ROOT_URLCONF = "shop_site.urls"
WSGI_APPLICATION = "shop_site.wsgi.application"
USE_TZ = True

INSTALLED_APPS = ["flagport_django"]
# With django.contrib.auth, put FlagportMiddleware after AuthenticationMiddleware and
# leave out user_from_request: the default maps request.user (and anonymous sessions).
MIDDLEWARE = ["flagport_django.middleware.FlagportMiddleware"]
TEMPLATES = [
    {"BACKEND": "django.template.backends.django.DjangoTemplates", "DIRS": [BASE_DIR / "templates"]}
]

FLAGPORT = {
    "provider": "local",
    "path": os.environ.get("FLAGS_FILE", str(BASE_DIR.parent.parent / "flags.yaml")),
    "user_from_request": "shop_site.views.user_from_request",
}
