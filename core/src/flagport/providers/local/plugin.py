"""Registers the ``local`` provider through the same hook as third-party providers."""

from __future__ import annotations

from collections.abc import Callable

from flagport.hookspecs import hookimpl

__all__ = ["flagport_register_providers"]


@hookimpl
def flagport_register_providers(register: Callable[..., None]) -> None:
    """Register :class:`~flagport.providers.local.provider.LocalProvider` as ``local``.

    By reference: the evaluator is imported only by a client that selects it.
    """
    register("flagport.providers.local.provider:LocalProvider", name="local")
