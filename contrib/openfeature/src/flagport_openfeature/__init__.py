"""flagport <-> OpenFeature bridge, one module per direction.

* :mod:`flagport_openfeature.to_openfeature` -- flagport **to** OpenFeature:
  :class:`FlagportProvider` is an *OpenFeature* provider answered by any flagport
  provider, for applications written against the OpenFeature SDK.
* :mod:`flagport_openfeature.from_openfeature` -- OpenFeature **into** flagport:
  :class:`OpenFeatureProvider` is the *flagport* provider ``openfeature``, answered by
  any OpenFeature provider, for applications written against flagport.

The old module paths ``flagport_openfeature.openfeature_provider`` and
``flagport_openfeature.provider`` still import, with a :class:`DeprecationWarning`.

The names below are imported on first access, so that registering the ``openfeature``
provider (which flagport does whenever it lists or selects a provider) does not import
the OpenFeature SDK.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from flagport._exports import lazy_export

if TYPE_CHECKING:
    from flagport_openfeature.from_openfeature import OpenFeatureProvider
    from flagport_openfeature.options import OpenFeatureOptions
    from flagport_openfeature.to_openfeature import FlagportProvider

__all__ = ["FlagportProvider", "OpenFeatureOptions", "OpenFeatureProvider"]

_LAZY = {
    "FlagportProvider": "flagport_openfeature.to_openfeature",
    "OpenFeatureOptions": "flagport_openfeature.options",
    "OpenFeatureProvider": "flagport_openfeature.from_openfeature",
}


def __getattr__(name: str) -> Any:
    return lazy_export(__name__, name, _LAZY)
