"""flagport provider for Statsig, driving Statsig's own server SDK (statsig-python-core).

``Flagport(provider="statsig", server_secret="secret-...")``; see the package README for
the options and how flagport's model maps onto Statsig's.
The names below are imported on first access, so that registering the provider
(and listing providers) does not import the vendor SDK. ``StatsigProviderOptions``
is the old name of :class:`StatsigOptions` (deprecated, it warns).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from flagport._exports import lazy_export

if TYPE_CHECKING:
    from flagport_statsig.options import StatsigOptions
    from flagport_statsig.options import StatsigProviderOptions as StatsigProviderOptions
    from flagport_statsig.provider import StatsigProvider

__all__ = ["StatsigOptions", "StatsigProvider"]

_LAZY = {
    "StatsigOptions": "flagport_statsig.options",
    "StatsigProvider": "flagport_statsig.provider",
}

_RENAMED = {"StatsigProviderOptions": "flagport_statsig.options:StatsigOptions"}


def __getattr__(name: str) -> Any:
    return lazy_export(__name__, name, _LAZY, _RENAMED)
