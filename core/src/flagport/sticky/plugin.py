"""The built-in sticky stores and the ``[sticky]`` settings section, as a plugin."""

from __future__ import annotations

from collections.abc import Callable

from flagport.hookspecs import hookimpl

__all__ = ["flagport_register_settings", "flagport_register_sticky_stores"]


@hookimpl
def flagport_register_settings(register: Callable[..., None]) -> None:
    # ``FLAGPORT_STICKY=memory`` picks a store; ``FLAGPORT_STICKY_PATH=...`` and the
    # ``[sticky]`` table set the rest.
    # By reference: the model is built only when a source sets a sticky option.
    register("sticky", "flagport.sticky.settings:StickySettings", switch="store")


@hookimpl
def flagport_register_sticky_stores(register: Callable[..., None]) -> None:
    from flagport.sticky.settings import memory_store, redis_store, sqlite_store  # with sticky

    register("memory", memory_store)
    register("sqlite", sqlite_store)
    register("redis", redis_store)
