"""Input parsing shared by the command modules: ``key=value`` options and ``--user`` JSON."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from typing import Any

import click

from flagport.errors import FlagportError
from flagport.user import User, as_user

__all__ = ["parse_options", "parse_user"]


def _option_value(raw: str) -> Any:
    try:
        return json.loads(raw)
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
        data = json.loads(raw)
    except json.JSONDecodeError as exc:
        raise click.BadParameter(
            f"not valid JSON ({exc.msg} at column {exc.colno}); "
            """example: --user '{"user_id": "42", "country": "US"}'""",
            param_hint="--user",
        ) from None
    if not isinstance(data, Mapping):
        raise click.BadParameter("must be a JSON object", param_hint="--user")
    try:
        return as_user(data)
    except FlagportError as exc:
        raise click.BadParameter(str(exc), param_hint="--user") from None
