"""``passall``: every gate passes; experiments and configs serve the caller's default.

The switch Couchers calls ``PASS_ALL_GATES``: run an application (or a test suite)
with every feature on and no vendor at all. Events are kept in memory for
inspection.

This package is the built-in plugin that registers the provider, by reference: the
provider and its options model (:mod:`.provider`) are imported only by a client that
selects ``passall`` (or by ``from flagport.providers.passall import PassAllProvider``).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from flagport._exports import lazy_export
from flagport.hookspecs import hookimpl

if TYPE_CHECKING:
    from flagport.providers.passall.provider import PassAllOptions, PassAllProvider

__all__ = ["PassAllOptions", "PassAllProvider", "flagport_register_providers"]

_LAZY = dict.fromkeys(("PassAllOptions", "PassAllProvider"), f"{__name__}.provider")


def __getattr__(name: str) -> Any:
    return lazy_export(__name__, name, _LAZY)


@hookimpl
def flagport_register_providers(register: Callable[..., None]) -> None:
    """Register :class:`~flagport.providers.passall.provider.PassAllProvider` as ``passall``."""
    register("flagport.providers.passall.provider:PassAllProvider", name="passall")
