"""The user (evaluation context) every call is made for."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from functools import cached_property
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from flagport._field_defaults import new_dict
from flagport.errors import InvalidContextError, MissingUserError
from flagport.results import thaw

__all__ = ["BUILTIN_FIELDS", "User", "UserLike", "as_user"]

BUILTIN_FIELDS: tuple[str, ...] = (
    "user_id",
    "email",
    "ip",
    "user_agent",
    "country",
    "locale",
    "app_version",
)


_Id = Annotated[str, Field(coerce_numbers_to_str=True)]


class User(BaseModel):
    """Who a flag is evaluated for.

    Conditions see the built-in fields by name, every key of ``custom`` and ``private``
    at the top level (with dot paths into nested values), and ``custom_ids`` as
    alternative bucketing units (conditions test them with ``$customIds``). Unset fields
    are absent, not null. ``environment_tier`` and ``now`` are the evaluation's context
    (``$environment``, ``$now``), not attributes, and are not sent in events.
    ``private`` attributes are visible to conditions but never leave the process in an
    event.
    """

    # A mistake's message never echoes a value: a user is personal data.
    model_config = ConfigDict(frozen=True, extra="forbid", hide_input_in_errors=True)

    # A number is taken as an id (User(user_id=42) is user "42", as {"user_id": 42} is).
    user_id: str | None = Field(
        default=None, coerce_numbers_to_str=True, description="The primary bucketing unit."
    )
    email: str | None = None
    ip: str | None = None
    user_agent: str | None = None
    country: str | None = Field(default=None, description="Usually an ISO 3166 alpha-2 code.")
    locale: str | None = None
    app_version: str | None = Field(default=None, description="Compared with the $v* operators.")
    custom: Mapping[str, Any] = Field(default_factory=new_dict)
    private: Mapping[str, Any] = Field(
        default_factory=new_dict,
        repr=False,
        description="Seen by conditions, never sent in events.",
    )
    custom_ids: Mapping[str, _Id] = Field(
        default_factory=new_dict, description="Other bucketing units, e.g. company_id, device_id."
    )
    environment_tier: str | None = Field(
        default=None,
        description=(
            "The environment tier conditions see as $environment (e.g. production); "
            "None means the provider's default."
        ),
    )
    now: datetime | None = Field(
        default=None,
        description=(
            "The time conditions see as $now (timezone-aware); None means the clock at "
            "evaluation. Set it to evaluate as of another moment (tests, replays)."
        ),
    )

    @cached_property
    def attributes(self) -> dict[str, Any]:
        """The flat view conditions match against: set built-ins, ``custom``, ``private``.

        Computed once per user object; treat it as read-only.
        """
        attrs: dict[str, Any] = {}
        for name in BUILTIN_FIELDS:
            value = getattr(self, name)
            if value is not None:
                attrs[name] = value
        attrs.update(self.custom)
        attrs.update(self.private)
        return attrs

    @cached_property
    def public_attributes(self) -> dict[str, Any]:
        """Like :attr:`attributes` without ``private``: what may leave the process."""
        attrs = {k: v for k in BUILTIN_FIELDS if (v := getattr(self, k)) is not None}
        attrs.update(self.custom)
        return attrs

    @cached_property
    def provider_cache(self) -> dict[object, Any]:
        """Scratch space where providers keep this user converted to their vendor's model.

        Keyed by the provider (or any key it chooses), so a ``User`` reused across calls
        is converted once, not per call.
        """
        return {}

    def unit(self, unit_type: str = "user_id") -> str | None:
        """The id of this user for a bucketing unit: ``user_id`` or a ``custom_ids`` key."""
        if unit_type == "user_id":
            return self.user_id
        return self.custom_ids.get(unit_type)

    @cached_property
    def event_view(self) -> dict[str, Any]:
        """The user as it appears in events (everything but ``private``); read-only, cached."""
        data: dict[str, Any] = {k: v for k in BUILTIN_FIELDS if (v := getattr(self, k)) is not None}
        if self.custom:
            data["custom"] = dict(self.custom)
        if self.custom_ids:
            data["custom_ids"] = dict(self.custom_ids)
        return data

    def to_event_dict(self) -> dict[str, Any]:
        """The user as it appears in an event: everything but ``private`` (a fresh copy)."""
        return thaw(self.event_view)  # type: ignore[no-any-return]


UserLike = User | Mapping[str, Any]
"""A :class:`User`, or a plain mapping with the same keys (other keys go to ``custom``)."""


def as_user(user: UserLike) -> User:
    """Return ``user`` as a :class:`User`, converting a plain mapping.

    Keys of a mapping that are not fields of :class:`User` are taken as ``custom``
    attributes, so a GrowthBook-style attribute dict works unchanged.

    :raises MissingUserError: ``user`` is None (no user: not a mistake).
    :raises InvalidContextError: the value is neither a ``User`` nor a valid mapping.
    """
    if isinstance(user, User):
        return user
    if user is None:
        raise MissingUserError("no user (an anonymous request, or no request scope)")
    if isinstance(user, Mapping):
        fields = User.model_fields
        known = {k: v for k, v in user.items() if k in fields}
        extra = {k: v for k, v in user.items() if k not in fields}
        if extra:
            custom = known.get("custom")
            if custom is not None and not isinstance(custom, Mapping):
                raise InvalidContextError("invalid user: field 'custom': must be a mapping")
            known["custom"] = {**extra, **(custom or {})}
        try:
            return User.model_validate(known)
        except ValidationError as exc:
            raise InvalidContextError(f"invalid user: {_problems(exc)}") from None
    raise InvalidContextError(f"expected a flagport.User or a mapping, got {type(user).__name__}")


def _problems(exc: ValidationError) -> str:
    """Each bad field and what it should be, never its value: a user is personal data.

    A problem inside ``private`` is reported as ``private``, so not even the name of a
    private attribute is shown.
    """
    problems: list[str] = []
    for err in exc.errors(include_input=False, include_url=False, include_context=False):
        loc = err["loc"][:1] if err["loc"][:1] == ("private",) else err["loc"]
        where = ".".join(str(part) for part in loc) or "user"
        problems.append(f"field {where!r}: {err['msg']}")
    return "; ".join(problems)
