"""Names a package exports without importing them up front, and old names after a rename.

A package ``__init__`` (or a module that lost a name) defines::

    def __getattr__(name: str) -> Any:
        return lazy_export(__name__, name, _LAZY, _RENAMED)

so that ``from package import Name`` imports ``Name``'s module only then (a vendor
provider's package stays cheap to register), and ``from package import OldName`` still
works, with a :class:`DeprecationWarning` that gives the new spelling.
"""

from __future__ import annotations

import importlib
import warnings
from collections.abc import Mapping
from typing import Any

from flagport.imports import import_object

__all__ = ["lazy_export"]


def lazy_export(
    module: str, name: str, lazy: Mapping[str, str], renamed: Mapping[str, str] | None = None
) -> Any:
    """Return the object ``module.name`` refers to, importing it now.

    :param module: the module asked (its ``__name__``).
    :param name: the attribute asked for.
    :param lazy: exported name -> the module that defines it under the same name.
    :param renamed: old name -> ``"package.module:NewName"``; using one warns.
    :returns: the object.
    :raises AttributeError: ``module`` has no such name, old or new.
    """
    if name in lazy:
        return getattr(importlib.import_module(lazy[name]), name)
    target = (renamed or {}).get(name)
    if target is None:
        raise AttributeError(f"module {module!r} has no attribute {name!r}")
    new_module, _, new_name = target.partition(":")
    warnings.warn(
        f"{module}.{name} is deprecated; import {new_name} from {new_module} instead",
        DeprecationWarning,
        # the caller of the module's __getattr__, i.e. the deprecated import itself
        stacklevel=3,
    )
    return import_object(target)
