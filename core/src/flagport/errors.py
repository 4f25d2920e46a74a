"""The one exception family flagport raises.

Every error carries an :class:`~flagport.ErrorCode` from the OpenFeature vocabulary,
so a non-strict client can turn it into a default result with the same code.
"""

from __future__ import annotations

import reprlib
from dataclasses import dataclass
from typing import ClassVar

from pydantic import ValidationError

from flagport._redact import redact
from flagport.reasons import ErrorCode

__all__ = [
    "ConfigurationError",
    "FlagNotFoundError",
    "FlagportError",
    "GeneralError",
    "InvalidContextError",
    "Location",
    "MissingUserError",
    "ParseError",
    "PluginError",
    "ProviderNotReadyError",
    "TypeMismatchError",
    "describe",
    "printable",
    "shown",
]


class FlagportError(Exception):
    """Base class of every error flagport raises.

    :ivar code: the OpenFeature error code a default result carries for this error.

    Its text never shows a live secret (see :mod:`flagport._redact`): a message built
    from a vendor's error may quote a URL or a header that holds one.
    """

    code: ErrorCode = ErrorCode.GENERAL
    #: A warning of its own explained it already (the process-wide client without
    #: settings): a default served because of it is counted, not logged again per flag.
    explained: ClassVar[bool] = False

    def __str__(self) -> str:
        return redact(super().__str__())

    def __repr__(self) -> str:
        return f"{type(self).__name__}({str(self)!r})"


class FlagNotFoundError(FlagportError):
    """The provider does not know the flag."""

    code = ErrorCode.FLAG_NOT_FOUND


class ParseError(FlagportError):
    """A definition or a value could not be parsed."""

    code = ErrorCode.PARSE_ERROR


class TypeMismatchError(FlagportError):
    """The flag exists but is of another kind or type than the one asked for."""

    code = ErrorCode.TYPE_MISMATCH


class ProviderNotReadyError(FlagportError):
    """The provider has not (yet) loaded any definitions."""

    code = ErrorCode.PROVIDER_NOT_READY


class InvalidContextError(FlagportError):
    """The user given cannot be evaluated (wrong type, missing unit id)."""

    code = ErrorCode.INVALID_CONTEXT


class MissingUserError(InvalidContextError):
    """No user at all: an anonymous request, or a shortcut called outside a request scope.

    Normal, not a mistake: even a strict client serves the default for it (with
    ``INVALID_CONTEXT``) and drops an event logged for nobody, as production does.
    """


class GeneralError(FlagportError):
    """Any other failure inside a provider."""

    code = ErrorCode.GENERAL


@dataclass(frozen=True, slots=True)
class Location:
    """Where a configuration problem is: a file, a path inside it and a line.

    :ivar source: a file path, or a description such as ``"environment"``.
    :ivar path: dotted path inside the source, e.g. ``gates.new_checkout.rules[1].when``.
    :ivar line: 1-based line number when known.
    """

    source: str
    path: str = ""
    line: int | None = None

    def __str__(self) -> str:
        where = self.source
        if self.line is not None:
            where += f":{self.line}"
        if self.path:
            where += f" at {self.path}"
        return where


class ConfigurationError(FlagportError, ValueError):
    """A setting, an option or a definitions file is wrong.

    Raised at construction (never during evaluation), with a message that names the
    source, the path inside it and what to do about it. ``problems`` holds every
    problem found, so a file with three mistakes reports all three at once.
    """

    code = ErrorCode.PARSE_ERROR

    def __init__(self, message: str, problems: list[tuple[Location, str]] | None = None) -> None:
        #: the message without its problems
        self.summary = message
        self.problems = problems or []
        if self.problems:
            lines = [message] + [f"  {loc}: {text}" for loc, text in self.problems]
            message = "\n".join(lines)
        super().__init__(printable(message))


class PluginError(FlagportError):
    """A plugin could not be loaded, or two plugins registered the same provider name."""

    code = ErrorCode.GENERAL


#: Longest description of an exception in a message: a provider's message may quote the
#: caller's input (a name, a value), which can be any size.
MAX_ERROR_MESSAGE = 1_000


def describe(exc: BaseException, limit: int = MAX_ERROR_MESSAGE, *, one_line: bool = False) -> str:
    """``"Type: message"`` of an exception, for a message, a log line or a result.

    Never a live secret (a vendor's exception can quote a URL with the key in it), never
    the value a validation refused (pydantic quotes it as ``input_value=...``: the
    application's data), at most ``limit`` characters, even if ``str()`` fails.

    :param one_line: join the message's lines (a log line, a CLI error).
    """
    try:
        if isinstance(exc, ValidationError):
            text = "; ".join(
                f"{'.'.join(map(str, error['loc'])) or 'value'}: {error['msg']}"
                for error in exc.errors(include_url=False, include_input=False)
            )
        else:
            text = str(exc)
    except Exception:
        text = "(no message: str() of the exception failed)"
    # Cut well past the limit before redacting, so a megabyte of message costs little.
    message = redact(f"{type(exc).__name__}: {text[: limit * 4]}" if text else type(exc).__name__)
    if one_line:
        message = " ".join(message.split())
    return message if len(message) <= limit else f"{message[: limit - 1]}…"


# C0 controls but tab and newline, DEL and C1 controls: a terminal acts on them (ESC
# starts a sequence that can recolour, retitle or write the clipboard).
_CONTROLS = {c: f"\\x{c:02x}" for c in (*range(9), *range(11, 32), *range(127, 160))}


def printable(text: str) -> str:
    """``text`` with the control characters a terminal acts on written as ``\\xNN``.

    A name or a key read from a file (a flags file from a URL, a pull request) is shown
    in messages and on terminals; this keeps its escape sequences inert.
    """
    return text if text.isprintable() else text.translate(_CONTROLS)


def shown(value: object, limit: int = 80) -> str:
    """A short ``repr`` of a caller's input (a flag name, a value), for messages.

    Bounded in time and size whatever the value: nested data is shown a few levels
    and items deep (a structure built from shared references is never expanded), and
    the text is cut to ``limit`` characters.
    """
    try:
        text = _SHORT_REPR.repr(value)
    except Exception:  # a repr that fails must not turn a message into an error
        text = f"<{type(value).__name__}>"
    return text if len(text) <= limit else f"{text[: limit - 1]}…"


_SHORT_REPR = reprlib.Repr()
_SHORT_REPR.maxlevel = 3
_SHORT_REPR.maxdict = _SHORT_REPR.maxlist = _SHORT_REPR.maxtuple = _SHORT_REPR.maxset = 4
_SHORT_REPR.maxstring = _SHORT_REPR.maxother = 80
