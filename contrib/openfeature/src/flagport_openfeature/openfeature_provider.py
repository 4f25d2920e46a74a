"""Deprecated module path: :class:`FlagportProvider` is in :mod:`.to_openfeature`.

Importing from here still works and warns; it will be removed in a future release.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from flagport._exports import lazy_export

if TYPE_CHECKING:
    from flagport_openfeature.to_openfeature import FlagportProvider

__all__ = ["FlagportProvider"]

_RENAMED = {"FlagportProvider": "flagport_openfeature.to_openfeature:FlagportProvider"}


def __getattr__(name: str) -> Any:
    return lazy_export(__name__, name, {}, _RENAMED)
