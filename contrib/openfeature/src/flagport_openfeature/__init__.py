"""flagport <-> OpenFeature bridge.

:class:`FlagportProvider` serves an OpenFeature application from any flagport
provider; :class:`OpenFeatureProvider` (flagport provider ``openfeature``) serves a
flagport application from any OpenFeature provider.
"""

from __future__ import annotations

from flagport_openfeature.openfeature_provider import FlagportProvider
from flagport_openfeature.options import OpenFeatureOptions
from flagport_openfeature.provider import OpenFeatureProvider

__all__ = ["FlagportProvider", "OpenFeatureOptions", "OpenFeatureProvider"]
