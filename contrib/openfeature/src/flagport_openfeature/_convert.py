"""flagport <-> OpenFeature models: users and evaluation contexts, reasons, error codes.

Both directions of the bridge use these functions, so a value that goes out through
one direction comes back unchanged through the other.
"""

from __future__ import annotations

from openfeature.evaluation_context import EvaluationContext
from openfeature.exception import ErrorCode as OFErrorCode
from openfeature.flag_evaluation import Reason as OFReason

from flagport.context import context_attributes, user_from_context
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
from flagport.user import User

__all__ = [
    "context_to_user",
    "error_for_code",
    "of_error_code",
    "of_reason",
    "reason_from_of",
    "user_to_context",
]

_OF_CODES = {code.value: OFErrorCode(code.value) for code in ErrorCode}

#: OpenFeature's reason for each flagport reason. The names are shared; OVERRIDE and
#: STICKY have no OpenFeature counterpart and travel as custom reason strings, which the
#: specification allows and which the reverse direction reads back.
_OF_REASONS: dict[Reason, str] = {
    Reason.STATIC: OFReason.STATIC,
    Reason.DEFAULT: OFReason.DEFAULT,
    Reason.TARGETING_MATCH: OFReason.TARGETING_MATCH,
    Reason.SPLIT: OFReason.SPLIT,
    Reason.DISABLED: OFReason.DISABLED,
    Reason.ERROR: OFReason.ERROR,
    Reason.OVERRIDE: "OVERRIDE",
    Reason.STICKY: "STICKY",
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


# -- users <-> evaluation contexts (the conversion lives in core: OFREP uses it too) ------
def context_to_user(context: EvaluationContext | None) -> User:
    """The flagport user an OpenFeature evaluation context describes.

    See :func:`flagport.context.user_from_context` for how attributes map to fields.

    :raises InvalidContextError: a built-in field is not a string, or ``custom_ids``
        is not a mapping of strings.
    """
    if context is None:
        return User()
    return user_from_context(context.targeting_key, context.attributes)


def user_to_context(user: User, *, include_private: bool = True) -> EvaluationContext:
    """The OpenFeature evaluation context for a flagport user.

    ``user_id`` is the targeting key; the attributes are
    :func:`flagport.context.context_attributes`. :func:`context_to_user` reads this back
    into an equivalent user.
    """
    cache_key = ("flagport_openfeature.context", include_private)
    cached = user.provider_cache.get(cache_key)
    if cached is not None:
        return cached  # type: ignore[no-any-return]
    attributes = context_attributes(user, include_private=include_private)
    context = EvaluationContext(targeting_key=user.user_id, attributes=attributes)
    user.provider_cache[cache_key] = context
    return context
