"""ASGI entry point: ``uvicorn shop_site.asgi:application``.

``with_lifespan`` gives Django the lifespan it lacks: the flagport client starts before
the first request and is closed (its queued events delivered) when the server stops.
"""

from __future__ import annotations

import os

from django.core.asgi import get_asgi_application

from flagport_django.asgi import with_lifespan

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "shop_site.settings")
application = with_lifespan(get_asgi_application())
