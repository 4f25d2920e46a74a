"""flagport provider for Statsig, driving Statsig's own server SDK (statsig-python-core).

``Flagport(provider="statsig", server_secret="secret-...")``; see the package README for
the options and how flagport's model maps onto Statsig's.
The names below are imported on first access, so that registering the provider
(and listing providers) does not import the vendor SDK.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from flagport_statsig.options import StatsigProviderOptions
    from flagport_statsig.provider import StatsigProvider

__all__ = ["StatsigProvider", "StatsigProviderOptions"]

_LAZY = {
    "StatsigProviderOptions": "flagport_statsig.options",
    "StatsigProvider": "flagport_statsig.provider",
}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
