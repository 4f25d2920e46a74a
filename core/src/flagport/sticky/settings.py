"""``sticky=`` settings: which store keeps assignments, chosen like a provider."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from flagport.errors import ConfigurationError
from flagport.plugins import get_plugin_manager
from flagport.sticky.store import MemoryStore, StickyStore
from flagport.suggest import did_you_mean

__all__ = [
    "StickySettings",
    "build_store",
    "memory_store",
    "redis_store",
    "sqlite_store",
    "store_factories",
]


class StickySettings(BaseModel):
    """The ``sticky`` settings (``Flagport(sticky={...})`` or ``[sticky]``)."""

    model_config = ConfigDict(extra="forbid")

    store: str | None = Field(
        default=None,
        description="memory, sqlite, redis, or a store a plugin registers (None: off).",
    )
    path: str = Field(default="flagport-assignments.db", description="The SQLite file.")
    url: str | None = Field(default=None, description="The Redis URL (redis://host:port/db).")
    prefix: str = Field(default="flagport:sticky:", description="Prefix of the Redis keys.")
    ttl: int | None = Field(default=None, ge=1, description="Seconds Redis keeps a unit.")
    timeout: float = Field(default=0.25, gt=0, description="Seconds a store round trip waits.")
    max_units: int = Field(default=100_000, ge=1, description="Units the memory store keeps.")
    max_queue: int = Field(default=100_000, ge=1, description="Writes queued behind requests.")
    batch_size: int = Field(default=500, ge=1, description="Writes saved at a time.")
    flush_interval: float = Field(default=0.2, gt=0, description="Seconds between saves.")


def memory_store(settings: StickySettings) -> StickyStore:
    return MemoryStore(settings.max_units)


def sqlite_store(settings: StickySettings) -> StickyStore:
    import sqlite3

    from flagport.sticky.sqlite import SQLiteStore

    try:
        return SQLiteStore(settings.path, timeout=max(settings.timeout, 1.0))
    except sqlite3.Error as exc:
        folder = Path(settings.path).parent
        fix = (
            f"the folder {folder} does not exist; create it first"
            if not folder.is_dir()
            else "check that the path is a SQLite file (or a new one) this process can write"
        )
        raise ConfigurationError(
            f"[sticky] path: cannot open the SQLite store {settings.path} ({exc}); {fix}"
        ) from None


def redis_store(settings: StickySettings) -> StickyStore:
    from flagport.sticky.redis_store import RedisStore

    if not settings.url:
        raise ConfigurationError("sticky store 'redis' needs a url: {'url': 'redis://host:6379/0'}")
    return RedisStore(settings.url, settings.prefix, settings.ttl, settings.timeout)


def store_factories() -> dict[str, Callable[[StickySettings], StickyStore]]:
    """The built-in stores and those plugins register through
    ``flagport_register_sticky_stores``."""
    factories: dict[str, Callable[[StickySettings], StickyStore]] = {}

    def register(name: str, factory: Callable[[StickySettings], StickyStore]) -> None:
        if name in factories:
            raise ConfigurationError(f"sticky store {name!r} is registered twice")
        factories[name] = factory

    get_plugin_manager().hook.flagport_register_sticky_stores(register=register)
    return factories


def build_store(
    options: Mapping[str, Any] | None, configured: StickySettings | None
) -> tuple[StickySettings, StickyStore] | None:
    """The settings and store that the ``[sticky]`` section ``configured`` and the
    code's ``options`` (which take precedence) select; None when sticky is off.

    :raises ConfigurationError: an unknown store or a bad option, said plainly.
    """
    from flagport.settings import validate_options

    if options is not None and not isinstance(options, Mapping):
        raise ConfigurationError(
            f"argument sticky: expected a mapping such as {{'store': 'sqlite', 'path': "
            f"'assignments.db'}}, got {type(options).__name__}"
        )
    merged = configured.model_dump(exclude_unset=True) if configured is not None else {}
    merged.update(options or {})
    sources = {
        k: f"argument sticky[{k!r}]" if k in (options or {}) else f"[sticky] {k}" for k in merged
    }
    settings = validate_options(StickySettings, merged, sources, "sticky")
    if settings.store is None:
        return None
    factories = store_factories()
    factory = factories.get(settings.store)
    if factory is None:
        known = ", ".join(sorted(factories))
        hint = did_you_mean(settings.store, factories)
        raise ConfigurationError(
            f"[sticky] store: unknown store {settings.store!r}; "
            + (f"{hint} (stores: {known})" if hint else f"use one of {known}")
        )
    return settings, factory(settings)
