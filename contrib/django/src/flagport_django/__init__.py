"""Django integration for flagport.

Add ``"flagport_django"`` to ``INSTALLED_APPS`` and
``"flagport_django.middleware.FlagportMiddleware"`` to ``MIDDLEWARE`` (after the
authentication middleware), and configure the client in ``settings.FLAGPORT``. Each
request then runs in ``flagport.scope(user)``, templates get ``{% load flagport %}``
tags, and ``manage.py check`` reports a bad flags file or bad options with their
location.
"""

from __future__ import annotations

from flagport_django.conf import default_user_from_request, get_client, user_from_request

__all__ = ["default_user_from_request", "get_client", "user_from_request"]
