"""Evaluation contexts (a targeting key plus attributes) <-> flagport users.

OpenFeature and its remote evaluation protocol describe who a flag is evaluated for
as a *targeting key* and a flat mapping of attributes; flagport as a :class:`User`.
The OpenFeature bridge and the OFREP endpoint both convert with these functions, so
a context means the same user whichever way it arrives.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date, datetime
from typing import Any

from pydantic import ValidationError

from flagport.errors import InvalidContextError
from flagport.results import MAX_VALUE_DEPTH
from flagport.user import BUILTIN_FIELDS, User

__all__ = ["context_attributes", "user_from_context"]

_BUILTINS = frozenset(BUILTIN_FIELDS)
_SCALARS = (str, int, float, bool, type(None))


def _plain(name: str, value: Any, depth: int = 0) -> Any:
    """JSON-like data for flagport: datetimes become ISO 8601 strings.

    :raises InvalidContextError: attribute ``name`` nests deeper than
        :data:`~flagport.results.MAX_VALUE_DEPTH` (hostile input, or data that holds itself).
    """
    if type(value) in _SCALARS:
        return value
    if isinstance(value, datetime | date):
        return value.isoformat()
    if depth >= MAX_VALUE_DEPTH and isinstance(value, Mapping | Sequence):
        raise InvalidContextError(
            f"evaluation context attribute {name!r} nests deeper than {MAX_VALUE_DEPTH} "
            "levels (or holds itself); flatten it"
        )
    if isinstance(value, Mapping):
        return {str(k): _plain(name, v, depth + 1) for k, v in value.items()}
    if isinstance(value, Sequence) and not isinstance(value, str | bytes):
        return [_plain(name, v, depth + 1) for v in value]
    return value


def _text(name: str, value: Any) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, int | float) and not isinstance(value, bool):
        return str(value)
    raise InvalidContextError(
        f"evaluation context attribute {name!r} must be a string (it is flagport's "
        f"built-in User.{name}), got {type(value).__name__}"
    )


def _string_map(name: str, value: Any) -> dict[str, str]:
    if not isinstance(value, Mapping):
        raise InvalidContextError(
            f"evaluation context attribute {name!r} must be a mapping of names to ids, "
            f"got {type(value).__name__}"
        )
    return {str(k): _text(f"{name}.{k}", v) for k, v in value.items()}


def user_from_context(targeting_key: Any, attributes: Mapping[str, Any]) -> User:
    """The flagport user an evaluation context describes.

    ``targeting_key`` is the ``user_id`` (a ``user_id`` attribute is used when there is
    no targeting key); attributes named like :class:`~flagport.User`'s built-in fields
    fill those fields; a ``custom_ids`` mapping gives the other bucketing units and a
    ``private`` mapping the private attributes; every other attribute is ``custom``.

    :raises InvalidContextError: a built-in field is not a string, or ``custom_ids``
        is not a mapping of strings (the message names the attribute, never its value).
    """
    fields: dict[str, Any] = {}
    custom: dict[str, Any] = {}
    for name, value in attributes.items():
        if name in _BUILTINS:
            fields[name] = _text(name, value)
        elif name == "custom_ids":
            fields["custom_ids"] = _string_map(name, value)
        elif name == "private" and isinstance(value, Mapping):
            fields["private"] = _plain(name, value)
        else:
            custom[str(name)] = _plain(str(name), value)
    if targeting_key:
        fields["user_id"] = _text("targeting_key", targeting_key)
    if custom:
        fields["custom"] = custom
    try:
        return User.model_validate(fields)
    except ValidationError as exc:
        raise InvalidContextError(f"invalid evaluation context: {exc}") from None


def context_attributes(user: User, *, include_private: bool = True) -> dict[str, Any]:
    """The attributes of the evaluation context for ``user`` (its ``user_id`` is the
    targeting key, not an attribute).

    The other built-in fields, every ``custom`` key and (unless ``include_private`` is
    false) every ``private`` key are top-level attributes, as flagport's own conditions
    see them; ``custom_ids`` is a ``custom_ids`` mapping attribute.
    :func:`user_from_context` reads them back into an equivalent user (private
    attributes come back as custom ones: a context has no notion of private data).
    """
    attributes: dict[str, Any] = {
        name: value
        for name in BUILTIN_FIELDS
        if name != "user_id" and (value := getattr(user, name)) is not None
    }
    attributes.update(user.custom)
    if include_private:
        attributes.update(user.private)
    if user.custom_ids:
        attributes["custom_ids"] = dict(user.custom_ids)
    return attributes
