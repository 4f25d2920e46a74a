"""Registers the ``statsig`` provider with flagport (entry point group ``flagport``)."""

from __future__ import annotations

from collections.abc import Callable

from flagport import Provider, hookimpl


@hookimpl
def flagport_register_providers(register: Callable[[type[Provider]], None]) -> None:
    """Register :class:`~flagport_statsig.StatsigProvider` under the name ``statsig``."""
    from flagport_statsig.provider import StatsigProvider

    register(StatsigProvider)
