"""Keep secrets out of log records, reprs and messages.

Two tools live here:

* **Masking by name**, for things printed whole (settings, provider options): a value
  is hidden when its option is a secret — a ``pydantic.SecretStr`` field of any
  provider's options model, a field marked ``json_schema_extra={"secret": True}``, or,
  for options no model declares (plugins, nested tables), a name that says so
  (``*secret*``, ``*token*``, ``*key*`` but not ``public_*``, ``password``,
  ``authorization``...) at most :data:`TABLE_DEPTH` tables deep. Deeper data is
  definitions (a bootstrap payload), where ``key`` names a flag, not a credential.
  See :func:`mask` and :class:`MaskedDict`.
* **Redaction of live secrets**, for text flagport does not write (vendor SDK logs,
  exception messages): every provider registers the secrets of its options while it
  lives (:func:`protect`, called by the provider base class, undone by :func:`release`
  at shutdown or when the provider is garbage-collected), and every occurrence of one
  of them, URL-encoded in whole or in part or escaped, is replaced by ``***``
  (:func:`redact`).

Log records are redacted where they are made: flagport wraps the log record factory
(:func:`logging.setLogRecordFactory`), so a record carrying a live secret in its
message, arguments, exception text or stack is rewritten before any filter or handler
sees it. A filter attached to the vendors' loggers would not do: a logger's filters
only see records logged on that very logger, not those of its children propagating
upwards (``urllib3.connectionpool`` is not ``urllib3``), children appear when the SDK
imports a module, and the ``lastResort`` handler that prints warnings to stderr has no
filter at all. A handler filter would miss handlers added later (the application's,
pytest's). The record factory sees every record of every logger, once. While no secret
is registered it costs one function call and one test per record.
"""

from __future__ import annotations

import contextlib
import itertools
import json
import logging
import re
import threading
import traceback
import weakref
from collections.abc import Iterator, Mapping
from typing import Any
from urllib.parse import parse_qsl

from pydantic import BaseModel, SecretBytes, SecretStr
from pydantic.fields import FieldInfo

from flagport._model_fields import fields_marked

__all__ = [
    "MASK",
    "MaskedDict",
    "declare_option_models",
    "is_secret_name",
    "mask",
    "path_tokens",
    "protect",
    "redact",
    "release",
    "secret_fields",
]

MASK = "***"
#: Shorter values are not redacted: replacing every occurrence of a two-letter string
#: would garble all logs, and a value that short guards nothing.
MIN_SECRET_LENGTH = 6
#: How many levels of nested tables are searched for secret names: a migration's side
#: (``from.server_secret``), a factory's keyword arguments and their ``headers``.
TABLE_DEPTH = 2

_SECRET_WORDS = frozenset(
    {
        "secret",
        "secrets",
        "token",
        "tokens",
        "password",
        "passwd",
        "pwd",
        "passphrase",
        "credential",
        "credentials",
        "authorization",
        "auth",
        "cookie",
        "key",
        "apikey",
        "sdkkey",
        "accesskey",
        "secretkey",
        "privatekey",
        "clientkey",
        "serverkey",
    }
)
# A name with one of these words holds something about a secret, not the secret: a
# public key, a key's id, a file or URL where one is found.
_PUBLIC_WORDS = frozenset(
    {
        "public",
        "id",
        "name",
        "names",
        "file",
        "path",
        "url",
        "uri",
        "host",
        "type",
        "prefix",
        "mode",
        "method",
        "scheme",
        "enabled",
        "timeout",
        "ttl",
        "max",
        "min",
        "size",
        "count",
        "length",
    }
)
_WORD = re.compile(r"[A-Z]+(?![a-z])|[A-Z]?[a-z]+|[0-9]+")
_URL_PASSWORD = re.compile(r"([a-zA-Z][a-zA-Z0-9+.-]*://[^:/@\s]*):([^@/\s]+)@")
_URL_QUERY = re.compile(r"[a-zA-Z][a-zA-Z0-9+.-]*://[^?#\s]*\?([^#\s]+)")
_URL_PATH = re.compile(r"[a-zA-Z][a-zA-Z0-9+.-]*://[^/?#\s]*(/[^?#\s]*)")
#: A query parameter's value, or a folder of a URL's path, this long is a token (a
#: presigned URL's signature, a tokenised link's ``/<token>/flags.yaml``), redacted even
#: where it appears without the rest of the URL.
_TOKEN_LENGTH = 16


def path_tokens(path: str) -> list[str]:
    """The folders of a URL's ``path`` long enough to be a token (not the file's name,
    which a message needs; a name without a flags-file extension is not quoted)."""
    return [folder for folder in path.split("/")[:-1] if len(folder) >= _TOKEN_LENGTH]


def is_secret_name(name: object) -> bool:
    """True when an option or header called ``name`` holds a secret, by its words.

    ``client_key``, ``X-Api-Key``, ``authToken``, ``Authorization`` are; ``public_key``,
    ``key_file``, ``token_url``, ``auth_mode`` are not.
    """
    if not isinstance(name, str):
        return False
    words = {w.lower() for w in _WORD.findall(name)}
    return bool(words & _SECRET_WORDS) and not words & _PUBLIC_WORDS


def _is_secret_mark(part: Any) -> bool:
    if isinstance(part, FieldInfo):
        extra = part.json_schema_extra
        return isinstance(extra, Mapping) and extra.get("secret") is True
    return part is SecretStr or part is SecretBytes


def secret_fields(model: type[BaseModel]) -> frozenset[str]:
    """Names (and aliases) of the fields of ``model`` that hold secrets.

    A field is secret when its type is ``SecretStr``/``SecretBytes`` (possibly optional)
    or it is marked with ``json_schema_extra={"secret": True}``.
    """
    return fields_marked(model, _is_secret_mark)


_OPTION_MODELS: list[type[BaseModel]] = []


def declare_option_models(base: type[BaseModel]) -> None:
    """Name secrets by ``base``'s secret fields and those of its subclasses, present and
    future: a value under such a name is hidden wherever it is printed."""
    _OPTION_MODELS.append(base)


def _declared_secret_names() -> frozenset[str]:
    """Secret field names of every declared options model imported so far."""
    names: set[str] = set()
    pending = list(_OPTION_MODELS)
    while pending:
        model = pending.pop()
        names |= secret_fields(model)
        pending.extend(model.__subclasses__())
    return frozenset(names)


def _hides(key: object, value: Any, declared: frozenset[str]) -> bool:
    if value is None or isinstance(value, bool | SecretStr | SecretBytes):
        return False
    return key in declared or is_secret_name(key)


def _mask(value: Any, declared: frozenset[str], depth: int) -> Any:
    if isinstance(value, Mapping | list | tuple) and depth > TABLE_DEPTH:
        return value  # definitions, not settings (and no recursion into a cycle)
    if isinstance(value, Mapping):
        return {
            k: MASK if _hides(k, v, declared) else _mask(v, declared, depth + 1)
            for k, v in value.items()
        }
    if isinstance(value, list):
        return [_mask(v, declared, depth + 1) for v in value]
    if isinstance(value, tuple):
        return tuple(_mask(v, declared, depth + 1) for v in value)
    if isinstance(value, str):
        return _URL_PASSWORD.sub(rf"\1:{MASK}@", redact(value))
    return value


def mask(value: Any) -> Any:
    """A copy of ``value`` fit to print: secret options hidden, live secrets redacted.

    Mappings and sequences are copied with every value under a secret name (see the
    module docstring) replaced by ``***``; strings have live secrets and the password
    of a ``scheme://user:password@host`` URL replaced. Other values are returned as is.
    """
    return _mask(value, _declared_secret_names(), 0)


class MaskedDict(dict[str, Any]):
    """A plain ``dict`` whose ``repr`` (and so ``str``, ``pprint``, rich) hides secrets.

    The values stay what they are: code reading the dict gets the real secret.
    """

    __slots__ = ()

    def __repr__(self) -> str:
        return repr(mask(dict(self)))

    __str__ = __repr__


# -- live secrets ----------------------------------------------------------------------
_lock = threading.RLock()  # re-entrant: a finaliser may run during a locked section
_ids = itertools.count()
_entries: dict[int, frozenset[str]] = {}
# By id(): a provider class may define __eq__ or __slots__, which weak keys would refuse.
_owners: dict[int, int] = {}
_pattern: re.Pattern[str] | None = None


# Characters URL encoders leave as they are: a secret made of them stays one literal.
_UNRESERVED = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~")


def _encoded_char(char: str) -> str:
    """A pattern for ``char`` as it can appear in a URL: itself, or percent-encoded
    in either case of hex digits (and a space also as ``+``)."""
    if char in _UNRESERVED:
        return re.escape(char)
    escapes = "".join(f"%[{b >> 4:X}{b >> 4:x}][{b & 15:X}{b & 15:x}]" for b in char.encode())
    plain = re.escape(char) + ("|\\+" if char == " " else "")
    return f"(?:{plain}|{escapes})"


def _forms(secret: str) -> Iterator[str]:
    """Patterns for the secret as it can appear in text: raw or URL-encoded, one
    character at a time (HTTP clients encode only what they deem unsafe, and in either
    case of hex digits), and JSON- or repr-escaped."""
    yield "".join(map(_encoded_char, secret))
    for escaped in (json.dumps(secret)[1:-1], repr(secret)[1:-1]):
        if escaped != secret:
            yield re.escape(escaped)


def _collect(value: Any, secret: bool, depth: int) -> Iterator[str]:
    if isinstance(value, SecretStr):
        yield value.get_secret_value()
    elif isinstance(value, SecretBytes):
        yield value.get_secret_value().decode("utf-8", "replace")
    elif isinstance(value, str):
        if secret:
            yield value
        # The password of a URL (https://user:password@host) is one whatever its option,
        # and so is its query string: a presigned bucket URL signs its query, and HTTP
        # clients log every request's URL.
        yield from (match.group(2) for match in _URL_PASSWORD.finditer(value))
        for match in _URL_PATH.finditer(value):
            yield from path_tokens(match.group(1))
        for match in _URL_QUERY.finditer(value):
            yield match.group(1)
            for _, token in parse_qsl(match.group(1)):
                if len(token) >= _TOKEN_LENGTH:
                    yield token
    elif isinstance(value, Mapping) and depth < TABLE_DEPTH:
        for key, item in value.items():
            yield from _collect(item, is_secret_name(key), depth + 1)


def _collect_options(options: BaseModel) -> Iterator[str]:
    declared = secret_fields(type(options))
    for name, info in type(options).model_fields.items():
        value = getattr(options, name)
        if value != info.default:  # a default is public knowledge, not a secret
            yield from _collect(value, name in declared or is_secret_name(name), 0)


def _rebuild() -> None:
    global _pattern
    forms = {form for entry in list(_entries.values()) for form in entry}
    if not forms:
        _pattern = None
        return
    # Longest first, so that an escaped form is replaced whole, not around a shorter one.
    ordered = sorted(forms, key=lambda f: (-len(f), f))
    _pattern = re.compile("|".join(ordered))


def _drop(owner_id: int, entry: int) -> None:
    with _lock:
        if _owners.get(owner_id) == entry:
            del _owners[owner_id]
        if _entries.pop(entry, None) is not None:
            _rebuild()


def protect(owner: object, secrets: Any) -> None:
    """Redact the secrets found in ``secrets`` from every log record while ``owner`` lives.

    :param owner: what holds the secrets (a provider); :func:`release` or its garbage
        collection ends the protection.
    :param secrets: an options model (its secret fields, and secret-named keys of its
        tables), a mapping, or a string.
    """
    if isinstance(secrets, BaseModel):
        found = list(_collect_options(secrets))
    else:
        found = list(_collect(secrets, isinstance(secrets, str), 0))
    forms = {form for s in found if len(s) >= MIN_SECRET_LENGTH for form in _forms(s)}
    if not forms:
        return
    with _lock:
        entry = next(_ids)
        previous = _owners.get(id(owner))
        if previous is not None:
            _entries.pop(previous, None)
        _entries[entry], _owners[id(owner)] = frozenset(forms), entry
        with contextlib.suppress(TypeError):  # not weakly referenceable: release() only
            weakref.finalize(owner, _drop, id(owner), entry)
        _rebuild()
        _install()


def release(owner: object) -> None:
    """Stop redacting what :func:`protect` registered for ``owner`` (idempotent)."""
    with _lock:
        entry = _owners.get(id(owner))
        if entry is not None:
            _drop(id(owner), entry)


def redact(text: str) -> str:
    """``text`` with every live secret (in any of its forms) replaced by ``***``."""
    pattern = _pattern
    return pattern.sub(MASK, text) if pattern is not None and text else text


# -- log records ------------------------------------------------------------------------
class _RedactingFactory:
    """Wraps the log record factory in place when the first secret was registered."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner

    def __call__(self, *args: Any, **kwargs: Any) -> logging.LogRecord:
        record: logging.LogRecord = self.inner(*args, **kwargs)
        pattern = _pattern
        if pattern is not None:
            _scrub(record, pattern)
        return record


def _scrub(record: logging.LogRecord, pattern: re.Pattern[str]) -> None:
    try:
        message = record.getMessage()
    except Exception:
        # A broken record: logging reports its msg and args as they are, so those count.
        message = f"{record.msg} (arguments: {record.args!r})"
    if pattern.search(message):
        record.msg, record.args = pattern.sub(MASK, message), None
    if record.exc_info and record.exc_info[1] is not None:
        text = "".join(traceback.format_exception(*record.exc_info)).rstrip("\n")
        if pattern.search(text):
            # The formatted text replaces the exception: handlers that render exc_info
            # themselves would print the secret in the exception's message.
            record.exc_text, record.exc_info = pattern.sub(MASK, text), None
    if record.exc_text and pattern.search(record.exc_text):
        record.exc_text = pattern.sub(MASK, record.exc_text)
    if record.stack_info and pattern.search(record.stack_info):
        record.stack_info = pattern.sub(MASK, record.stack_info)


def _install() -> None:
    current = logging.getLogRecordFactory()
    if not isinstance(current, _RedactingFactory):
        logging.setLogRecordFactory(_RedactingFactory(current))
