"""flagport <-> GrowthBook models: users to attribute contexts, events to ingest rows.

GrowthBook conditions see one flat attribute dict, and hash on ``id`` unless a rule
names another ``hashAttribute``. A flagport user becomes: every ``custom_ids`` entry
(so ``hashAttribute: company_id`` works), ``id`` = ``user_id``, then every built-in
field, ``custom`` and ``private`` key by name (later ones win on a clash). The
conversion is cached on the user (``user.provider_cache``), so a ``User`` reused
across calls is converted once.

GrowthBook has no private attributes, but the events this provider sends are built
from the user's *public* attributes only, so ``private`` never leaves the process.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Mapping
from typing import Any

from growthbook import UserContext

from flagport.events.model import Event, EventKind, FlagKind
from flagport.providers.local.growthbook_view import as_growthbook
from flagport.results import freeze
from flagport.user import User

__all__ = [
    "USER_KEY",
    "as_mapping",
    "event_row",
    "public_attributes",
    "to_user_context",
    "warn_once",
]

logger = logging.getLogger("flagport.growthbook")

USER_KEY = "flagport_growthbook.user"
_PUBLIC_KEY = "flagport_growthbook.public"

# Attributes the ingestor takes as top-level columns; the rest go to context_json.
_TOP_LEVEL = frozenset(
    {
        "user_id",
        "device_id",
        "anonymous_id",
        "id",
        "page_id",
        "session_id",
        "utmCampaign",
        "utmContent",
        "utmMedium",
        "utmSource",
        "utmTerm",
        "pageTitle",
    }
)
_OPTIONAL_COLUMNS = (
    ("utmCampaign", "utm_campaign"),
    ("utmContent", "utm_content"),
    ("utmMedium", "utm_medium"),
    ("utmSource", "utm_source"),
    ("utmTerm", "utm_term"),
    ("pageTitle", "page_title"),
)
_warned: set[str] = set()


def warn_once(key: str, message: str, *args: Any, seen: set[str] | None = None) -> None:
    """Log a warning the first time ``key`` is met (in ``seen``, else in this process)."""
    seen = _warned if seen is None else seen
    if key not in seen:
        seen.add(key)
        logger.warning(message, *args)


def to_user_context(user: User) -> UserContext:
    """The user as GrowthBook's per-evaluation user context (cached on the user)."""
    ctx: UserContext | None = user.provider_cache.get(USER_KEY)
    if ctx is None:
        ctx = UserContext(attributes=as_growthbook(user, user.attributes))
        user.provider_cache[USER_KEY] = ctx
    return ctx


def public_attributes(user: User) -> dict[str, Any]:
    """The attributes without ``private``: the only ones put into events (cached)."""
    attrs: dict[str, Any] | None = user.provider_cache.get(_PUBLIC_KEY)
    if attrs is None:
        attrs = as_growthbook(user, user.public_attributes)
        user.provider_cache[_PUBLIC_KEY] = attrs
    return attrs


def as_mapping(value: Any) -> Any:
    """A feature value as a result's value: a mapping frozen, a scalar wrapped as
    ``{"value": ...}`` (never dropped), None kept (the client serves the caller's default)."""
    if value is None:
        return None
    if isinstance(value, Mapping):
        return freeze(value)
    return freeze({"value": value})


def _string(value: Any) -> str | None:
    return value if isinstance(value, str) else None


def _json_safe(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)
    if value is None or isinstance(value, str | int | float | bool):
        return value
    if isinstance(value, Mapping):
        return {str(k): _json_safe(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [_json_safe(v) for v in value]
    warn_once(
        f"type:{type(value).__name__}",
        "flagport-growthbook: %s values are not JSON; sent as their str()",
        type(value).__name__,
    )
    return str(value)


def _properties(event: Event) -> dict[str, Any]:
    props: dict[str, Any] = {str(k): _json_safe(v) for k, v in event.metadata.items()}
    if event.value is not None:
        if "value" in props:
            # The ingestor keeps one flat property map; the event value owns "value".
            warn_once(
                "metadata-value",
                "flagport-growthbook: metadata key 'value' clashes with the event value; "
                "it is sent as 'metadata_value' (event %r)",
                event.name,
            )
            props["metadata_value"] = props.pop("value")
        props["value"] = _json_safe(event.value)
    return props


def _exposure_properties(event: Event, experiment: Mapping[str, Any] | None) -> dict[str, Any]:
    if event.flag_kind is FlagKind.EXPERIMENT:
        props: dict[str, Any] = {
            "experiment_id": event.name,
            "variation_id": None,
            "variation_key": event.group,
            "in_experiment": True,
            "hash_used": True,
        }
        if experiment:
            props.update(experiment)
        return props
    props = {"feature_key": event.name, "source": "flagport"}
    if event.rule_id is not None:
        props["rule_id"] = event.rule_id
    if event.flag_kind is FlagKind.GATE and event.group in {"true", "false"}:
        props["feature_value"] = event.group == "true"
    for key, value in event.metadata.items():
        props.setdefault(str(key), _json_safe(value))
    return props


def event_row(
    event: Event, sdk_version: str, experiment: Mapping[str, Any] | None = None
) -> dict[str, Any]:
    """One row of the ingestor's ``POST /track`` body, in the SDK plugin's shape.

    Custom events carry ``value`` and every metadata key in ``properties_json``;
    experiment exposures are ``$$experiment_viewed`` rows, gate and config exposures
    ``$$feature_evaluated`` rows.

    :param experiment: for experiment exposures, the SDK's view of the assignment
        (experiment key, variation id, hash attribute and value).
    """
    attrs = public_attributes(event.user)
    if event.kind is EventKind.EXPOSURE:
        name = (
            "$$experiment_viewed"
            if event.flag_kind is FlagKind.EXPERIMENT
            else "$$feature_evaluated"
        )
        props = _exposure_properties(event, experiment)
    else:
        name, props = event.name, _properties(event)
    row: dict[str, Any] = {
        "event_name": name,
        "properties_json": props,
        "sdk_language": "python",
        "sdk_version": sdk_version,
        "url": "",
        "context_json": {k: _json_safe(v) for k, v in attrs.items() if k not in _TOP_LEVEL},
        "user_id": _string(attrs.get("user_id")),
        "device_id": _string(
            attrs.get("device_id") or attrs.get("anonymous_id") or attrs.get("id")
        ),
        "page_id": _string(attrs.get("page_id")),
        "session_id": _string(attrs.get("session_id")),
    }
    for attr, column in _OPTIONAL_COLUMNS:
        text = _string(attrs.get(attr))
        if text is not None:
            row[column] = text
    return row
