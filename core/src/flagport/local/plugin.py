"""Registers the ``local`` provider through the same hook as third-party providers."""

from __future__ import annotations

from collections.abc import Callable

from flagport.hookspecs import hookimpl
from flagport.local.provider import LocalProvider
from flagport.provider import Provider

__all__ = ["flagport_register_providers"]


@hookimpl
def flagport_register_providers(register: Callable[[type[Provider]], None]) -> None:
    """Register :class:`~flagport.local.provider.LocalProvider` as ``local``."""
    register(LocalProvider)
