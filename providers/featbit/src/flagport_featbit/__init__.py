"""flagport provider for FeatBit, driving FeatBit's own Python SDK (``fbclient``).
The names below are imported on first access, so that registering the provider
(and listing providers) does not import the vendor SDK.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from flagport._exports import lazy_export

if TYPE_CHECKING:
    from flagport_featbit.options import FeatBitOptions
    from flagport_featbit.provider import FeatBitProvider

__all__ = ["FeatBitOptions", "FeatBitProvider"]

_LAZY = {
    "FeatBitOptions": "flagport_featbit.options",
    "FeatBitProvider": "flagport_featbit.provider",
}


def __getattr__(name: str) -> Any:
    return lazy_export(__name__, name, _LAZY)
