"""Registers the ``featbit`` provider with flagport (entry point group ``flagport``)."""

from __future__ import annotations

from collections.abc import Callable

from flagport import Provider, hookimpl
from flagport_featbit.provider import FeatBitProvider

__all__ = ["flagport_register_providers"]


@hookimpl
def flagport_register_providers(register: Callable[[type[Provider]], None]) -> None:
    """Register :class:`~flagport_featbit.FeatBitProvider` as ``featbit``."""
    register(FeatBitProvider)
