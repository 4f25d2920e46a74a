"""Registers the ``migration`` provider, built in like ``passall``."""

from __future__ import annotations

from collections.abc import Callable

from flagport.hookspecs import hookimpl

__all__ = ["flagport_register_providers"]


@hookimpl
def flagport_register_providers(register: Callable[..., None]) -> None:
    """Register :class:`~flagport.providers.migration.provider.MigrationProvider` as ``migration``.

    By reference: the provider (and the evidence, comparison and control-file code it
    brings) is imported only by a client that selects it.
    """
    register("flagport.providers.migration.provider:MigrationProvider", name="migration")
