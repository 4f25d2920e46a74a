"""Importing an object named by a ``"package.module:attribute"`` reference.

Settings and plugins name callables and classes this way (event sinks, providers
registered by reference, OpenFeature provider factories).
"""

from __future__ import annotations

import importlib
from typing import Any

__all__ = ["import_class", "import_object"]


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


def import_class(reference: str, base: type[Any], kind: str) -> type[Any]:
    """Import the class ``reference`` names and check that it is a subclass of ``base``.

    :param kind: what the class should be, for the error (``"a pydantic model"``).
    :raises ImportError: the reference does not import; whatever the module raised
        (``SystemExit`` included, but not ``KeyboardInterrupt``) is its cause.
    :raises TypeError: it names something that is not ``kind``.
    """
    try:
        found = import_object(reference)
    except KeyboardInterrupt:
        raise
    except BaseException as exc:  # SystemExit from a module is a broken reference too
        raise ImportError(f"failed to import {reference!r}: {type(exc).__name__}: {exc}") from exc
    if not (isinstance(found, type) and issubclass(found, base)):
        raise TypeError(f"{reference!r} is not {kind}")
    return found
