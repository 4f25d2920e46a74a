"""flagport provider for FeatBit, driving FeatBit's own Python SDK (``fbclient``).
The names below are imported on first access, so that registering the provider
(and listing providers) does not import the vendor SDK.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from flagport_featbit.options import FeatBitOptions
    from flagport_featbit.provider import FeatBitProvider

__all__ = ["FeatBitOptions", "FeatBitProvider"]

_LAZY = {
    "FeatBitOptions": "flagport_featbit.options",
    "FeatBitProvider": "flagport_featbit.provider",
}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
