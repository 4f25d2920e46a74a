"""flagport provider for GrowthBook, driving GrowthBook's own SDK."""

from __future__ import annotations

from flagport_growthbook.options import GrowthBookOptions
from flagport_growthbook.provider import GrowthBookProvider

__all__ = ["GrowthBookOptions", "GrowthBookProvider"]
