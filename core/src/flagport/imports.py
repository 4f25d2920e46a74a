"""Importing an object named by a ``"package.module:attribute"`` reference.

Settings and plugins name callables and classes this way (event sinks, providers
registered by reference, OpenFeature provider factories).
"""

from __future__ import annotations

import importlib
from typing import Any

__all__ = ["import_object"]


def import_object(reference: str) -> Any:
    """Import ``package.module`` and return its ``attribute``.

    :param reference: ``"package.module:attribute"``.
    :raises ImportError: the module does not import, or the reference has no ``:``.
    :raises AttributeError: the module has no such attribute.
    """
    module_name, sep, attr = reference.partition(":")
    if not sep or not module_name or not attr:
        raise ImportError(f"{reference!r} is not of the form 'package.module:attribute'")
    return getattr(importlib.import_module(module_name), attr)
