"""Old public names kept importable, with a :class:`DeprecationWarning`, after a rename.

A module that lost a name defines ``__getattr__`` with :func:`renamed_attribute`, so
``from old.module import OldName`` still works and tells the caller the new spelling.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping
from typing import Any

from flagport.imports import import_object

__all__ = ["renamed_attribute"]


def renamed_attribute(module: str, name: str, renamed: Mapping[str, str]) -> Any:
    """Return the object an old name of ``module`` now refers to, warning the caller.

    :param module: the module asked (its ``__name__``).
    :param name: the attribute asked for.
    :param renamed: old name -> ``"package.module:NewName"``.
    :returns: the renamed object.
    :raises AttributeError: ``name`` was never a name of ``module``.
    """
    target = renamed.get(name)
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
