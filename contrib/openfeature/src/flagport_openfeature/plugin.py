"""Registers the ``openfeature`` provider with flagport (entry point group ``flagport``).

The provider is registered by reference, so listing providers does not import the
OpenFeature SDK; it is imported when a client selects ``openfeature``.
"""

from __future__ import annotations

from collections.abc import Callable

from flagport.hookspecs import hookimpl

__all__ = ["flagport_register_providers"]


@hookimpl
def flagport_register_providers(register: Callable[..., None]) -> None:
    """Register :class:`~flagport_openfeature.from_openfeature.OpenFeatureProvider`."""
    register("flagport_openfeature.from_openfeature:OpenFeatureProvider", name="openfeature")
