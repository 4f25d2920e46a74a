"""Registers the ``openfeature`` provider with flagport (entry point ``flagport``)."""

from __future__ import annotations

from collections.abc import Callable

from flagport.hookspecs import hookimpl
from flagport.provider import Provider
from flagport_openfeature.from_openfeature import OpenFeatureProvider


@hookimpl
def flagport_register_providers(register: Callable[[type[Provider]], None]) -> None:
    """Contribute :class:`OpenFeatureProvider` under the name ``openfeature``."""
    register(OpenFeatureProvider)
