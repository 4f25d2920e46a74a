"""Registers the ``growthbook`` provider with flagport (entry point ``flagport``)."""

from __future__ import annotations

from collections.abc import Callable

from flagport.hookspecs import hookimpl
from flagport.provider import Provider
from flagport_growthbook.provider import GrowthBookProvider


@hookimpl
def flagport_register_providers(register: Callable[[type[Provider]], None]) -> None:
    """Contribute :class:`GrowthBookProvider` under the name ``growthbook``."""
    register(GrowthBookProvider)
