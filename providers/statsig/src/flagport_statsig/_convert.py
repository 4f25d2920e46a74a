"""flagport <-> Statsig models: users, event metadata, reasons and bootstrap specs."""

from __future__ import annotations

import json
import logging
import math
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from statsig_python_core import DataStore, DataStoreResponse, StatsigUser

from flagport.errors import ConfigurationError, Location
from flagport.jsonfile import read_json_object
from flagport.reasons import Reason
from flagport.results import thaw
from flagport.user import User

__all__ = [
    "RuleIndex",
    "build_rule_index",
    "event_metadata",
    "load_bootstrap",
    "to_statsig_user",
]

logger = logging.getLogger("flagport.statsig")
_warned: set[str] = set()

#: Statsig rule ids that say no rule applied, and what flagport calls that.
SPECIAL_RULES: dict[str, Reason] = {
    "default": Reason.DEFAULT,
    "disabled": Reason.DISABLED,
    "prestart": Reason.DISABLED,
    "abandoned": Reason.DISABLED,
    "layerAssignment": Reason.DEFAULT,
    "targetingGate": Reason.DEFAULT,
    "": Reason.DEFAULT,
}


def warn_once(key: str, message: str, *args: Any) -> None:
    """Log a data-fidelity warning once per process and key."""
    if key not in _warned:
        _warned.add(key)
        logger.warning(message, *args)


# -- users ------------------------------------------------------------------------------
def _primitive(value: Any) -> bool:
    return value is None or isinstance(value, str | bool | int | float)


def _statsig_value(value: Any, where: str) -> Any:
    """A custom attribute as Statsig can carry it.

    Statsig takes primitives, lists of primitives and flat maps of primitives; anything
    deeper (or of another type) is sent JSON-encoded so no data is lost, with a warning.
    """
    if _primitive(value):
        return value
    if isinstance(value, list | tuple) and all(_primitive(v) for v in value):
        return list(value)
    if isinstance(value, Mapping) and all(_primitive(v) for v in value.values()):
        return {str(k): v for k, v in value.items()}
    warn_once(
        f"user:{where}",
        "flagport-statsig: user attribute %r is not a primitive, list or flat map; "
        "it is sent to Statsig JSON-encoded (conditions compare the string)",
        where,
    )
    return json.dumps(thaw(value), sort_keys=True, default=str)


def to_statsig_user(user: User) -> StatsigUser:
    """Convert a flagport user to a ``StatsigUser``.

    Built-in fields map one to one; ``custom`` goes to ``custom``, ``private`` to
    ``private_attributes`` (used by conditions, stripped from events by the SDK) and
    ``custom_ids`` to ``custom_ids`` (the unit of rules whose id type is that key).
    The environment tier is set once on the SDK (option ``environment``); a user's own
    ``environment_tier`` overrides it, as Statsig's per-user ``statsigEnvironment`` does.
    """
    return StatsigUser(
        user_id=user.user_id,
        email=user.email,
        ip=user.ip,
        country=user.country,
        locale=user.locale,
        app_version=user.app_version,
        user_agent=user.user_agent,
        custom={k: _statsig_value(v, k) for k, v in user.custom.items()} or None,
        custom_ids=dict(user.custom_ids) or None,
        private_attributes={k: _statsig_value(v, k) for k, v in user.private.items()} or None,
        statsig_environment={"tier": user.environment_tier} if user.environment_tier else None,
    )


# -- events -------------------------------------------------------------------------------
def _json_safe(value: Any, key: str) -> Any:
    if value is None or isinstance(value, str | bool | int):
        return value
    if isinstance(value, float):
        if math.isfinite(value):
            return value
    elif isinstance(value, Mapping):
        return {str(k): _json_safe(v, key) for k, v in value.items()}
    elif isinstance(value, list | tuple):
        return [_json_safe(v, key) for v in value]
    warn_once(
        f"metadata:{key}",
        "flagport-statsig: event metadata %r holds a %s, which JSON cannot carry; "
        "it is sent as its string form",
        key,
        type(value).__name__,
    )
    return str(value)


def event_metadata(metadata: Mapping[str, Any]) -> dict[str, Any] | None:
    """Event metadata as Statsig sends it (it keeps nested JSON types as they are)."""
    if not metadata:
        return None
    return {str(k): _json_safe(v, str(k)) for k, v in metadata.items()}


# -- reasons --------------------------------------------------------------------------------
RuleIndex = dict[tuple[str, str], Reason]
"""(flag name, rule id) -> the reason a result from that rule carries."""


def _rule_reason(rule: Mapping[str, Any], conditions: Mapping[str, Any]) -> Reason:
    if rule.get("isExperimentGroup"):
        return Reason.SPLIT
    percentage = rule.get("passPercentage", 100)
    if isinstance(percentage, int | float) and 0 < percentage < 100:
        return Reason.SPLIT
    for cid in rule.get("conditions") or ():
        condition = conditions.get(cid) if isinstance(cid, str) else None
        if isinstance(condition, Mapping) and condition.get("type") == "user_bucket":
            return Reason.SPLIT
    return Reason.TARGETING_MATCH


def build_rule_index(specs: Mapping[str, Any]) -> RuleIndex:
    """Classify every rule of a config-specs document as a split or a targeting match.

    A rule that buckets users (a partial pass percentage, a ``user_bucket`` condition,
    an experiment group) gives ``SPLIT``; any other matching rule ``TARGETING_MATCH``.
    """
    conditions = specs.get("condition_map") or {}
    index: RuleIndex = {}
    for section in ("feature_gates", "dynamic_configs", "layer_configs"):
        entries = specs.get(section) or {}
        if not isinstance(entries, Mapping):
            continue
        for name, spec in entries.items():
            if not isinstance(spec, Mapping):
                continue
            for rule in spec.get("rules") or ():
                if isinstance(rule, Mapping) and isinstance(rule.get("id"), str):
                    index[(name, rule["id"])] = _rule_reason(rule, conditions)
    return index


# -- bootstrap --------------------------------------------------------------------------------
def load_bootstrap(bootstrap: Path | Mapping[str, Any]) -> tuple[str, dict[str, Any]]:
    """Read and check bootstrap specs; return them as JSON text and as data.

    :raises ConfigurationError: the file is unreadable, not JSON or not config specs.
    """
    source, data = read_json_object(
        bootstrap, what="statsig bootstrap", option="bootstrap (FLAGPORT_STATSIG_BOOTSTRAP)"
    )
    problems = [
        (
            Location(source, key),
            f"must be an object mapping names to specs, got {type(data[key]).__name__}",
        )
        for key in ("feature_gates", "dynamic_configs", "layer_configs", "condition_map")
        if key in data and not isinstance(data[key], dict)
    ]
    if not any(k in data for k in ("feature_gates", "dynamic_configs", "layer_configs")):
        problems.append(
            (
                Location(source),
                "no feature_gates, dynamic_configs or layer_configs; this is not a "
                "Statsig config-specs document (download_config_specs, dcs-v2)",
            )
        )
    if problems:
        raise ConfigurationError("invalid statsig bootstrap", problems)
    data.setdefault("has_updates", True)
    data.setdefault("time", 1)
    return json.dumps(data), data


class _SpecsStore(DataStore):
    """A read-only Statsig data store serving fixed config specs (the bootstrap)."""

    def __init__(self, specs_json: str) -> None:
        super().__init__()  # type: ignore[no-untyped-call]
        self._specs = specs_json
        self._time = int(time.time() * 1000)

    def initialize(self) -> None:
        return None

    def shutdown(self) -> None:
        return None

    def get(self, key: str) -> DataStoreResponse:
        if "download_config_specs" in key:
            return DataStoreResponse(result=self._specs, time=self._time)
        return DataStoreResponse(result=None, time=None)

    def set(self, key: str, value: str, time: int | None = None) -> None:
        return None

    def support_polling_updates_for(self, key: str) -> bool:
        return False
