"""flagport provider for FeatBit, driving FeatBit's own Python SDK (``fbclient``)."""

from __future__ import annotations

from flagport_featbit.options import FeatBitOptions
from flagport_featbit.provider import FeatBitProvider

__all__ = ["FeatBitOptions", "FeatBitProvider"]
