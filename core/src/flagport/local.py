"""Deprecated module path: the ``local`` provider is in :mod:`flagport.providers.local`.

``from flagport.local import LocalProvider`` still works and warns; it will be removed in
a future release.
"""

from __future__ import annotations

from typing import Any

from flagport._exports import lazy_export

_RENAMED = {name: f"flagport.providers.local:{name}" for name in ("LocalOptions", "LocalProvider")}


def __getattr__(name: str) -> Any:
    return lazy_export(__name__, name, {}, _RENAMED)
