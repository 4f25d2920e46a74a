"""Registers the ``migration`` provider, built in like ``passall``."""

from __future__ import annotations

from collections.abc import Callable

from flagport.hookspecs import hookimpl
from flagport.migration.provider import MigrationProvider
from flagport.provider import Provider

__all__ = ["flagport_register_providers"]


@hookimpl
def flagport_register_providers(register: Callable[[type[Provider]], None]) -> None:
    register(MigrationProvider)
