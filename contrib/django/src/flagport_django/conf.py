"""``settings.FLAGPORT``: the client's arguments plus the request-to-user function.

``FLAGPORT = {"provider": "local", "path": BASE_DIR / "flags.yaml",
"user_from_request": "myapp.flags.user_from_request"}``: every key but
``user_from_request`` is an argument of :class:`flagport.Flagport`, validated by it.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping
from typing import Any

from django.conf import settings
from django.http import HttpRequest
from django.utils.crypto import salted_hmac
from django.utils.module_loading import import_string

import flagport
from flagport import ConfigurationError, Flagport
from flagport.suggest import closest_name
from flagport.user import UserLike

__all__ = [
    "anonymous_id",
    "client_arguments",
    "default_user_from_request",
    "get_client",
    "user_from_request",
]

UserFromRequest = Callable[[HttpRequest], UserLike | None]
USER_KEY = "user_from_request"
#: The salt of :func:`anonymous_id`'s digest (with ``settings.SECRET_KEY``).
ANONYMOUS_SALT = "flagport_django.anonymous_id"

_lock = threading.Lock()
_client: Flagport | None = None


def flagport_settings() -> Mapping[str, Any]:
    """``settings.FLAGPORT``, or an empty mapping (settings from FLAGPORT_* / flagport.toml).

    :raises TypeError: it is not a dict.
    """
    value = getattr(settings, "FLAGPORT", {})
    if not isinstance(value, Mapping):
        raise TypeError(
            f"settings.FLAGPORT must be a dict of flagport.Flagport arguments, "
            f"got {type(value).__name__}"
        )
    return value


def client_arguments() -> dict[str, Any]:
    """The arguments of :class:`flagport.Flagport` in ``settings.FLAGPORT``.

    :raises flagport.ConfigurationError: a key is a typo of ``user_from_request`` (the
        client's own error would list only its options, not this one).
    """
    arguments = {k: v for k, v in flagport_settings().items() if k != USER_KEY}
    for key in arguments:
        if closest_name(str(key), [USER_KEY], cutoff=0.8):
            raise ConfigurationError(
                f"settings.FLAGPORT: unknown key {key!r}; did you mean {USER_KEY!r}?"
            )
    if "path" in arguments:  # a pathlib.Path from BASE_DIR / "flags.yaml"
        arguments["path"] = str(arguments["path"])
    return arguments


def get_client() -> Flagport:
    """The process-wide client, built from ``settings.FLAGPORT`` on first use.

    It is also installed as flagport's module-level client, so ``flagport.check_gate``
    and friends use it. Nothing starts here: the provider starts on first evaluation,
    in each worker process (a client built before a fork starts again in the child).

    :raises flagport.ConfigurationError: bad options, naming each with its fix.
    """
    global _client
    with _lock:
        if _client is None:
            _client = Flagport(**client_arguments())
            flagport.set_client(_client)
        return _client


def reset_client() -> None:
    """Forget the client (after settings change in tests); it is shut down."""
    global _client
    with _lock:
        client, _client = _client, None
    if client is not None:
        previous = flagport.set_client(None)
        if previous is not client:  # someone installed another client since: keep it
            flagport.set_client(previous)
        client.shutdown()


def default_user_from_request(request: HttpRequest) -> UserLike | None:
    """``request.user`` as a flagport user.

    An authenticated user gives ``user_id`` (the primary key), ``email`` and the
    custom fields ``is_staff`` / ``is_superuser`` (False for a custom user model without
    them); an anonymous visitor with a session gives ``user_id="anon:<digest>"``, a
    keyed digest of the session key (stable for the session, so experiments assign them
    a group; the key itself is a credential and never leaves the request); otherwise
    None (no scope: gates serve their defaults).
    """
    user = getattr(request, "user", None)
    if user is not None and user.is_authenticated:
        return {
            "user_id": str(user.pk),
            "email": getattr(user, "email", None) or None,
            "custom": {
                "is_staff": bool(getattr(user, "is_staff", False)),
                "is_superuser": bool(getattr(user, "is_superuser", False)),
            },
        }
    session = getattr(request, "session", None)
    key = getattr(session, "session_key", None)
    return {"user_id": anonymous_id(key)} if key else None


def anonymous_id(session_key: str) -> str:
    """The user id of an anonymous session: ``anon:`` and a digest of its key keyed by
    ``SECRET_KEY``, so events, logs and telemetry never carry the session key itself
    (whoever holds it holds the session)."""
    digest = salted_hmac(ANONYMOUS_SALT, session_key, algorithm="sha256").hexdigest()
    return f"anon:{digest[:32]}"


def user_from_request() -> UserFromRequest:
    """The configured function (``FLAGPORT["user_from_request"]``: a callable or its
    dotted path), else :func:`default_user_from_request`.
    """
    configured = flagport_settings().get(USER_KEY)
    if configured is None:
        return default_user_from_request
    if isinstance(configured, str):
        found: UserFromRequest = import_string(configured)
        return found
    if not callable(configured):
        raise TypeError(
            f"settings.FLAGPORT[{USER_KEY!r}] must be a callable or its dotted path, "
            f"got {type(configured).__name__}"
        )
    return configured  # type: ignore[no-any-return]
