"""flagport provider for Statsig, driving Statsig's own server SDK (statsig-python-core).

``Flagport(provider="statsig", server_secret="secret-...")``; see the package README for
the options and how flagport's model maps onto Statsig's.
"""

from __future__ import annotations

from flagport_statsig.options import StatsigProviderOptions
from flagport_statsig.provider import StatsigProvider

__all__ = ["StatsigProvider", "StatsigProviderOptions"]
