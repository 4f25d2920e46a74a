"""Deprecated module path: the ``openfeature`` flagport provider is in :mod:`.from_openfeature`.

Importing from here still works and warns; it will be removed in a future release.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from flagport._exports import lazy_export

if TYPE_CHECKING:
    from flagport_openfeature.from_openfeature import OpenFeatureProvider

__all__ = ["OpenFeatureProvider"]

_RENAMED = {"OpenFeatureProvider": "flagport_openfeature.from_openfeature:OpenFeatureProvider"}


def __getattr__(name: str) -> Any:
    return lazy_export(__name__, name, {}, _RENAMED)
