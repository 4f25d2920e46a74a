"""Deprecated module path: migration is in :mod:`flagport.providers.migration`.

``from flagport.migration import MigrationProvider`` (and the other names that package
exports) still works and warns; it will be removed in a future release.
"""

from __future__ import annotations

from typing import Any

from flagport._exports import lazy_export
from flagport.providers.migration import __all__ as _NAMES

_RENAMED = {name: f"flagport.providers.migration:{name}" for name in _NAMES}


def __getattr__(name: str) -> Any:
    return lazy_export(__name__, name, {}, _RENAMED)
