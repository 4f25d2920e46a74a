"""``manage.py check``: bad settings, bad options and a bad flags file, with locations.

The checks use flagport's own validation (the client's constructor and the local
provider's loader), so they report exactly what the application would meet at start.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.apps import AppConfig
from django.core import checks
from django.utils.module_loading import import_string

from flagport import ConfigurationError, Flagport
from flagport.providers.local import LocalProvider
from flagport_django.conf import USER_KEY, client_arguments, flagport_settings

__all__ = ["check_flagport"]

HINT_OPTIONS = "Fix settings.FLAGPORT (or the FLAGPORT_* environment / flagport.toml)."
HINT_FILE = "Fix the flags file; `flagport validate <file>` lists every problem."


@checks.register("flagport")
def check_flagport(app_configs: Sequence[AppConfig] | None = None, **kwargs: Any) -> list[Any]:
    """Validate ``settings.FLAGPORT`` and, for the local provider, its flags file."""
    try:
        settings = flagport_settings()
    except TypeError as exc:
        return [checks.Error(str(exc), id="flagport.E001")]
    errors: list[Any] = []
    user = settings.get(USER_KEY)
    if isinstance(user, str):
        try:
            import_string(user)
        except ImportError as exc:
            errors.append(
                checks.Error(
                    f"settings.FLAGPORT[{USER_KEY!r}]: {exc}",
                    hint="Give the dotted path of a function (request) -> user.",
                    id="flagport.E002",
                )
            )
    elif user is not None and not callable(user):
        errors.append(
            checks.Error(
                f"settings.FLAGPORT[{USER_KEY!r}] must be a callable or its dotted path",
                id="flagport.E002",
            )
        )
    try:
        # A client of its own, never started: load() reads the file without a watcher.
        client = Flagport(**client_arguments())
    except (ConfigurationError, TypeError) as exc:
        errors.append(checks.Error(str(exc), hint=HINT_OPTIONS, id="flagport.E003"))
        return errors
    try:
        provider = client.provider
        if isinstance(provider, LocalProvider):
            try:
                provider.load()
            except ConfigurationError as exc:
                errors.append(checks.Error(str(exc), hint=HINT_FILE, id="flagport.E004"))
    finally:
        client.shutdown()
    return errors
