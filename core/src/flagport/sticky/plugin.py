"""The built-in sticky stores and the ``[sticky]`` settings section, as a plugin."""

from __future__ import annotations

from collections.abc import Callable

from flagport.hookspecs import hookimpl
from flagport.sticky.settings import StickySettings, memory_store, redis_store, sqlite_store

__all__ = ["flagport_register_settings", "flagport_register_sticky_stores"]


@hookimpl
def flagport_register_settings(register: Callable[..., None]) -> None:
    # ``FLAGPORT_STICKY=memory`` picks a store; ``FLAGPORT_STICKY_PATH=...`` and the
    # ``[sticky]`` table set the rest.
    register("sticky", StickySettings, switch="store")


@hookimpl
def flagport_register_sticky_stores(register: Callable[..., None]) -> None:
    register("memory", memory_store)
    register("sqlite", sqlite_store)
    register("redis", redis_store)
