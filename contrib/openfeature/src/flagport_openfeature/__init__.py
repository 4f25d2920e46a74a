"""flagport <-> OpenFeature bridge, one module per direction.

* :mod:`flagport_openfeature.to_openfeature` -- flagport **to** OpenFeature:
  :class:`FlagportProvider` is an *OpenFeature* provider answered by any flagport
  provider, for applications written against the OpenFeature SDK.
* :mod:`flagport_openfeature.from_openfeature` -- OpenFeature **into** flagport:
  :class:`OpenFeatureProvider` is the *flagport* provider ``openfeature``, answered by
  any OpenFeature provider, for applications written against flagport.

The old module paths ``flagport_openfeature.openfeature_provider`` and
``flagport_openfeature.provider`` still import, with a :class:`DeprecationWarning`.
"""

from __future__ import annotations

from flagport_openfeature.from_openfeature import OpenFeatureProvider
from flagport_openfeature.options import OpenFeatureOptions
from flagport_openfeature.to_openfeature import FlagportProvider

__all__ = ["FlagportProvider", "OpenFeatureOptions", "OpenFeatureProvider"]
