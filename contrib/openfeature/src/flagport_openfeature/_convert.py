"""flagport <-> OpenFeature models: users and evaluation contexts, reasons, error codes.

Both directions of the bridge use these functions, so a value that goes out through
one direction comes back unchanged through the other.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date, datetime
from typing import Any

from openfeature.evaluation_context import EvaluationContext
from openfeature.exception import ErrorCode as OFErrorCode
from openfeature.flag_evaluation import Reason as OFReason
from pydantic import ValidationError

from flagport.errors import (
    FlagNotFoundError,
    FlagportError,
    GeneralError,
    InvalidContextError,
    ParseError,
    ProviderNotReadyError,
    TypeMismatchError,
)
from flagport.reasons import ErrorCode, Reason
from flagport.user import BUILTIN_FIELDS, User

__all__ = [
    "context_to_user",
    "error_for_code",
    "of_error_code",
    "of_reason",
    "reason_from_of",
    "user_to_context",
]

_BUILTINS = frozenset(BUILTIN_FIELDS)
_OF_CODES = {code.value: OFErrorCode(code.value) for code in ErrorCode}

#: OpenFeature's reason for each flagport reason. The names are shared; OVERRIDE has
#: no OpenFeature counterpart and travels as a custom reason string, which the
#: specification allows and which the reverse direction reads back.
_OF_REASONS: dict[Reason, str] = {
    Reason.STATIC: OFReason.STATIC,
    Reason.DEFAULT: OFReason.DEFAULT,
    Reason.TARGETING_MATCH: OFReason.TARGETING_MATCH,
    Reason.SPLIT: OFReason.SPLIT,
    Reason.DISABLED: OFReason.DISABLED,
    Reason.ERROR: OFReason.ERROR,
    Reason.OVERRIDE: "OVERRIDE",
}
_FROM_OF: dict[str, Reason] = {str(v): k for k, v in _OF_REASONS.items()}
# A cached answer was computed earlier under a reason the provider no longer reports;
# flagport has no CACHED, and the value does not depend on this call's user.
_FROM_OF[OFReason.CACHED.value] = Reason.STATIC

_ERRORS: dict[str, type[FlagportError]] = {
    "FLAG_NOT_FOUND": FlagNotFoundError,
    "PARSE_ERROR": ParseError,
    "TYPE_MISMATCH": TypeMismatchError,
    "PROVIDER_NOT_READY": ProviderNotReadyError,
    "INVALID_CONTEXT": InvalidContextError,
    "TARGETING_KEY_MISSING": InvalidContextError,
    "GENERAL": GeneralError,
    "PROVIDER_FATAL": GeneralError,
}


def of_reason(reason: Reason) -> str:
    """OpenFeature's reason string for a flagport reason (``OVERRIDE`` stays ``OVERRIDE``)."""
    return _OF_REASONS[reason]


def reason_from_of(reason: str | None) -> Reason:
    """flagport's reason for an OpenFeature reason.

    ``CACHED`` becomes ``STATIC``; ``UNKNOWN``, ``STALE``, no reason and custom reasons
    other than ``OVERRIDE`` become ``DEFAULT`` (flagport has no "unknown").
    """
    if reason is None:
        return Reason.DEFAULT
    return _FROM_OF.get(str(reason), Reason.DEFAULT)


def of_error_code(code: ErrorCode) -> OFErrorCode:
    """OpenFeature's error code for a flagport one (the vocabularies are the same)."""
    return _OF_CODES[code.value]


def error_for_code(code: str | None, message: str | None) -> FlagportError:
    """The flagport exception for an OpenFeature error code.

    ``TARGETING_KEY_MISSING`` is an invalid context, ``PROVIDER_FATAL`` a general error;
    codes flagport does not know are general errors.
    """
    cls = _ERRORS.get(str(code), GeneralError)
    return cls(message or f"the OpenFeature provider reported {code}")


# -- users <-> evaluation contexts -------------------------------------------------------
_SCALARS = (str, int, float, bool, type(None))


def _plain(value: Any) -> Any:
    """JSON-like data for flagport: datetimes become ISO 8601 strings."""
    if type(value) in _SCALARS:
        return value
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, Sequence) and not isinstance(value, str | bytes):
        return [_plain(v) for v in value]
    return value


def _text(name: str, value: Any) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, int | float) and not isinstance(value, bool):
        return str(value)
    raise InvalidContextError(
        f"evaluation context attribute {name!r} must be a string (it is flagport's "
        f"built-in User.{name}), got {type(value).__name__}: {value!r}"
    )


def _string_map(name: str, value: Any) -> dict[str, str]:
    if not isinstance(value, Mapping):
        raise InvalidContextError(
            f"evaluation context attribute {name!r} must be a mapping of names to ids, "
            f"got {type(value).__name__}: {value!r}"
        )
    return {str(k): _text(f"{name}.{k}", v) for k, v in value.items()}


def context_to_user(context: EvaluationContext | None) -> User:
    """The flagport user an OpenFeature evaluation context describes.

    ``targeting_key`` is the ``user_id`` (a ``user_id`` attribute is used when there is
    no targeting key); attributes named like :class:`~flagport.User`'s built-in fields
    fill those fields; a ``custom_ids`` mapping gives the other bucketing units and a
    ``private`` mapping the private attributes; every other attribute is ``custom``.

    :raises InvalidContextError: a built-in field is not a string, or ``custom_ids``
        is not a mapping of strings.
    """
    if context is None:
        return User()
    fields: dict[str, Any] = {}
    custom: dict[str, Any] = {}
    for name, value in context.attributes.items():
        if name in _BUILTINS:
            fields[name] = _text(name, value)
        elif name == "custom_ids":
            fields["custom_ids"] = _string_map(name, value)
        elif name == "private" and isinstance(value, Mapping):
            fields["private"] = _plain(value)
        else:
            custom[name] = _plain(value)
    if context.targeting_key:
        fields["user_id"] = _text("targeting_key", context.targeting_key)
    if custom:
        fields["custom"] = custom
    try:
        return User.model_validate(fields)
    except ValidationError as exc:
        raise InvalidContextError(f"invalid evaluation context: {exc}") from None


def user_to_context(user: User, *, include_private: bool = True) -> EvaluationContext:
    """The OpenFeature evaluation context for a flagport user.

    ``user_id`` is the targeting key; the other built-in fields, every ``custom`` key
    and (unless ``include_private`` is false) every ``private`` key are top-level
    attributes, as flagport's own conditions see them; ``custom_ids`` is a
    ``custom_ids`` mapping attribute. :func:`context_to_user` reads this back into an
    equivalent user (private attributes come back as custom ones: OpenFeature has no
    notion of private attributes).
    """
    cache_key = ("flagport_openfeature.context", include_private)
    cached = user.provider_cache.get(cache_key)
    if cached is not None:
        return cached  # type: ignore[no-any-return]
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
    context = EvaluationContext(targeting_key=user.user_id, attributes=attributes)
    user.provider_cache[cache_key] = context
    return context
