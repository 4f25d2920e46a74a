"""Which fields of a pydantic model carry a mark, in their type or their metadata.

Secret masking (:mod:`flagport._redact`: ``SecretStr`` fields, fields marked secret) and
the settings files (:mod:`flagport.settings_files`: path options, provider tables) ask
the same question of a model, through ``Optional``, unions, ``Annotated`` and generic
arguments alike; this module answers it for both.
"""

from __future__ import annotations

import itertools
import typing
from collections.abc import Callable, Iterator
from typing import Any

from pydantic import BaseModel

__all__ = ["fields_marked", "type_parts"]


def type_parts(annotation: Any) -> Iterator[Any]:
    """``annotation`` and everything inside it, depth first: the members of a union,
    the arguments of a generic, the type and metadata of an ``Annotated``."""
    yield annotation
    for argument in typing.get_args(annotation):
        yield from type_parts(argument)


def fields_marked(model: type[BaseModel], is_mark: Callable[[Any], bool]) -> frozenset[str]:
    """The names (and aliases) of the fields of ``model`` that carry a mark.

    :param is_mark: true of a mark; asked of the field's ``FieldInfo``, of each item of
        its metadata and of each of its :func:`type_parts`.
    """
    names: set[str] = set()
    for name, info in model.model_fields.items():
        parts = itertools.chain((info,), info.metadata, type_parts(info.annotation))
        if any(is_mark(part) for part in parts):
            names.add(name)
            if info.alias:
                names.add(info.alias)
    return frozenset(names)
