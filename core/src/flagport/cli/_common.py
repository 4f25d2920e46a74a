"""Input parsing shared by the command modules: ``key=value`` options and ``--user`` JSON."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from typing import Any

import click

from flagport.cli._output import say
from flagport.errors import FlagportError
from flagport.suggest import closest_name
from flagport.user import BUILTIN_FIELDS, User, as_user

__all__ = ["parse_options", "parse_user"]


def _loads(raw: str, param_hint: str) -> Any:
    """``json.loads(raw)``; JSON nested deeper than the parser goes is a usage error
    (a ``RecursionError`` would read as a bug in flagport)."""
    try:
        return json.loads(raw)
    except RecursionError:
        raise click.BadParameter(
            "JSON nested too deeply to read; give fewer levels of arrays and objects",
            param_hint=param_hint,
        ) from None


def _option_value(raw: str) -> Any:
    try:
        return _loads(raw, "--option")
    except json.JSONDecodeError:
        return raw


def parse_options(pairs: Iterable[str]) -> dict[str, Any]:
    """Turn ``key=value`` strings into options; values are JSON when they parse as JSON."""
    options: dict[str, Any] = {}
    for pair in pairs:
        key, sep, raw = pair.partition("=")
        if not sep or not key.strip():
            raise click.BadParameter(f"{pair!r} is not key=value", param_hint="--option")
        options[key.strip()] = _option_value(raw)
    return options


def parse_user(raw: str) -> User:
    """Parse ``--user`` JSON into a :class:`User` (other keys become ``custom``)."""
    try:
        data = _loads(raw, "--user")
    except json.JSONDecodeError as exc:
        raise click.BadParameter(
            f"not valid JSON ({exc.msg} at column {exc.colno}); "
            """example: --user '{"user_id": "42", "country": "US"}'""",
            param_hint="--user",
        ) from None
    if not isinstance(data, Mapping):
        raise click.BadParameter("must be a JSON object", param_hint="--user")
    try:
        user = as_user(data)
    except FlagportError as exc:
        raise click.BadParameter(str(exc), param_hint="--user") from None
    _hint_misspelt_fields(data)
    return user


def _hint_misspelt_fields(data: Mapping[str, Any]) -> None:
    """Say so when a key is taken as a custom attribute but looks like a misspelt
    built-in field (``userid``): the flag then sees no ``user_id`` and answers quietly
    as for a user without one."""
    fields = [f for f in (*BUILTIN_FIELDS, "custom", "private", "custom_ids") if f not in data]
    for key in data:
        # Closer than for a flag name: an attribute may well be named like a field
        # on purpose (email_hash beside email).
        close = closest_name(str(key), fields, cutoff=0.8) if key not in User.model_fields else None
        if close is not None:
            say(
                ("hint:", "bold yellow"),
                f" --user key {key!r} is taken as a custom attribute; did you mean {close!r}?",
                err=True,
            )
