"""The ``local`` provider: flags from a file, evaluated in process.

``Flagport(provider="local", path="flags.yaml")`` selects it; the file format is
described by :mod:`flagport.providers.local.models` and ``docs/flags-file.md``.

The provider's module (and with it YAML, the rule compiler, the regex engine) is
imported when first used, not when this package is: the plugin registers the provider
by reference, so a client of another provider never pays for it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from flagport._exports import lazy_export

if TYPE_CHECKING:
    from flagport.providers.local.provider import LocalOptions, LocalProvider

__all__ = ["LocalOptions", "LocalProvider"]
_LAZY = dict.fromkeys(__all__, "flagport.providers.local.provider")


def __getattr__(name: str) -> Any:
    return lazy_export(__name__, name, _LAZY)
