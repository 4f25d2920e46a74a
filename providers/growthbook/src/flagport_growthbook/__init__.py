"""flagport provider for GrowthBook, driving GrowthBook's own SDK.
The names below are imported on first access, so that registering the provider
(and listing providers) does not import the vendor SDK.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from flagport._exports import lazy_export

if TYPE_CHECKING:
    from flagport_growthbook.options import GrowthBookOptions
    from flagport_growthbook.provider import GrowthBookProvider

__all__ = ["GrowthBookOptions", "GrowthBookProvider"]

_LAZY = {
    "GrowthBookOptions": "flagport_growthbook.options",
    "GrowthBookProvider": "flagport_growthbook.provider",
}


def __getattr__(name: str) -> Any:
    return lazy_export(__name__, name, _LAZY)
