"""The Django app: registers the system checks."""

from __future__ import annotations

from django.apps import AppConfig


class FlagportConfig(AppConfig):
    name = "flagport_django"
    label = "flagport"
    verbose_name = "flagport"

    def ready(self) -> None:
        from flagport_django import checks  # noqa: F401  (registers the checks)
