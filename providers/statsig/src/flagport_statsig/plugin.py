"""Registers the ``statsig`` provider with flagport (entry point group ``flagport``).

The provider is registered by reference, so listing providers does not import the
vendor SDK; it is imported when a client selects ``statsig``.
"""

from __future__ import annotations

from collections.abc import Callable

from flagport import hookimpl

__all__ = ["flagport_register_providers"]


@hookimpl
def flagport_register_providers(register: Callable[..., None]) -> None:
    """Register :class:`~flagport_statsig.provider.StatsigProvider` as ``statsig``."""
    register("flagport_statsig.provider:StatsigProvider", name="statsig")
