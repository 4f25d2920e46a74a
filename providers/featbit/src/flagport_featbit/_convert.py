"""flagport <-> FeatBit models: users, flag definitions, results and events.

FeatBit's model is narrower than flagport's, so a few things are encoded rather than
carried (see the package README): attribute values are strings, lists and dicts are
JSON-encoded, private attributes travel under a marker that the insight sender strips,
and event metadata becomes extra metrics. Every lossy step is logged once.
"""

from __future__ import annotations

import json
import logging
import math
import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any, Final

from flagport.errors import (
    FlagNotFoundError,
    FlagportError,
    GeneralError,
    InvalidContextError,
    ProviderNotReadyError,
    TypeMismatchError,
)
from flagport.providers.local.conditions.featbit import featbit_text as _text
from flagport.providers.local.featbit_view import PRIVATE_MARKER, as_featbit
from flagport.reasons import Reason
from flagport.results import ConfigResult, ExperimentResult, FrozenDict, GateResult, freeze

if TYPE_CHECKING:
    from flagport.events.model import Event
    from flagport.user import User

__all__ = [
    "FALLTHROUGH_RULE_ID",
    "PRIVATE_MARKER",
    "TARGET_RULE_ID",
    "USER_CACHE_KEY",
    "CompiledFlag",
    "check_data_sync",
    "compile_flag",
    "compile_flags",
    "encode_metrics",
    "featbit_user",
    "warn_once",
]

logger = logging.getLogger("flagport.featbit")

#: Key of the converted user in :attr:`flagport.User.provider_cache`.
USER_CACHE_KEY: Final = "flagport_featbit.user"

_warned: set[str] = set()
_warned_lock = threading.Lock()


def warn_once(key: str, message: str, *args: object) -> None:
    """Log ``message`` at WARNING the first time ``key`` is seen in this process."""
    if key in _warned:
        return
    with _warned_lock:
        if key in _warned or len(_warned) > 10_000:
            return
        _warned.add(key)
    logger.warning(message, *args)


# -- users ---------------------------------------------------------------------------
def featbit_user(user: User) -> dict[str, str]:
    """``user`` as FeatBit's user dict, converted once per :class:`~flagport.User`.

    :raises InvalidContextError: the user has no ``user_id`` (FeatBit requires a key).
    """
    cache = user.provider_cache
    converted: dict[str, str] | None = cache.get(USER_CACHE_KEY)
    if converted is None:
        converted = cache[USER_CACHE_KEY] = _convert_user(user)
    return converted


def _convert_user(user: User) -> dict[str, str]:
    if not user.user_id or not user.user_id.strip():
        raise InvalidContextError(
            "FeatBit needs a user key: give the flagport User a non-empty user_id"
        )
    return as_featbit(user, _notice)


def _notice(kind: str, origin: str, key: str) -> None:
    if kind == "reserved":
        warn_once(
            f"reserved:{origin}:{key}",
            "flagport featbit: %s entry %r is ignored: FeatBit reserves that name for the "
            "user's key/name (set user_id, or custom['name'] for the display name)",
            origin,
            key,
        )
    elif kind == "json":
        warn_once(
            f"json:{key}",
            "flagport featbit: %s attribute %r is a list, set or dict; FeatBit only has string "
            "attributes, so it is sent JSON-encoded (and nested scalars as %r.<path>)",
            origin,
            key,
            key,
        )
    else:
        warn_once(
            f"unit:{key}",
            "flagport featbit: custom_ids[%r] overrides an attribute of the same name "
            "(FeatBit buckets by a user property named by the rule's dispatch key)",
            key,
        )


# -- events --------------------------------------------------------------------------
def _number(value: Any) -> float | None:
    if isinstance(value, bool):
        return 1.0 if value else 0.0
    if isinstance(value, int | float) and math.isfinite(value):
        return float(value)
    return None


def encode_metrics(event: Event) -> dict[str, float]:
    """An event as FeatBit metrics: FeatBit events carry one number and nothing else.

    * ``<name>``: the event's numeric value, or ``1.0`` (FeatBit's own default);
    * ``<name>.<key>``: each numeric (or boolean, as 1/0) metadata value;
    * ``<name>.<key>:<text>`` = ``1.0``: each other metadata value (JSON for lists and
      dicts), and a string event value as key ``value``, so they can still be counted.
    """
    name = event.name
    metrics: dict[str, float] = {}
    extra: dict[str, Any] = dict(event.metadata)
    value = event.value
    if isinstance(value, str):
        try:
            number = float(value)
        except ValueError:
            number = None
        if number is None or not math.isfinite(number):
            extra = {"value": value, **extra}
            number = 1.0
        metrics[name] = number
    else:
        metrics[name] = 1.0 if value is None else float(value)
    if extra:
        warn_once(
            f"metadata:{name}",
            "flagport featbit: FeatBit events carry no metadata; event %r metadata is sent as "
            "extra metrics '%s.<key>' (numbers) and '%s.<key>:<value>' (other values)",
            name,
            name,
            name,
        )
    for key, item in extra.items():
        number = _number(item)
        if number is not None:
            metrics[f"{name}.{key}"] = number
        else:
            metrics[f"{name}.{key}:{_text(item)}"] = 1.0
    return metrics


# -- flags -----------------------------------------------------------------------------
_FLAG_OFF = "flag off"
_TARGET_MATCH = "target match"
_RULE_MATCH = "rule match"
_FALLTHROUGH = "fall through all rules"
_ERRORS: dict[str, type[FlagportError]] = {
    "client not ready": ProviderNotReadyError,
    "flag not found": FlagNotFoundError,
    "user not specified": InvalidContextError,
    "wrong type": TypeMismatchError,
    "error in evaluation": GeneralError,
}
TARGET_RULE_ID: Final = "targetUsers"
FALLTHROUGH_RULE_ID: Final = "fallthrough"


@dataclass(frozen=True, slots=True)
class _Rollout:
    rule_id: str | None
    serves: frozenset[str]
    split: bool
    in_experiment: bool


def _rollout(rule_id: str | None, spec: Mapping[str, Any]) -> _Rollout:
    serves = [
        str(v["id"])
        for v in spec.get("variations") or ()
        if float(v["rollout"][1]) > float(v["rollout"][0])
    ]
    return _Rollout(rule_id, frozenset(serves), len(serves) > 1, bool(spec.get("includedInExpt")))


def _cast(variation_type: str, raw: Any) -> Any:
    if not isinstance(raw, str):
        return raw
    try:
        if variation_type in ("boolean", "json"):
            return json.loads(raw)
        if variation_type == "number":
            number = float(raw)
            return int(number) if number.is_integer() else number
    except ValueError:
        return raw
    return raw


@dataclass(slots=True)
class CompiledFlag:
    """What flagport needs to know about one FeatBit flag, built once per version.

    FeatBit reports a reason string and a variation id, not which rule matched; the
    matching rule is inferred when only one rule can serve that variation.
    """

    key: str
    variation_type: str
    groups: dict[str, str]
    values: dict[str, Any]
    rules: tuple[_Rollout, ...]
    fallthrough: _Rollout
    targets_in_experiment: bool
    version: str = ""
    results: dict[tuple[str, str, str | None], Any] = field(default_factory=dict)

    @property
    def is_gate(self) -> bool:
        return self.variation_type == "boolean"

    @property
    def is_experiment(self) -> bool:
        return any(r.in_experiment for r in self.rules) or self.fallthrough.in_experiment

    def _explain(self, reason: str, vid: str) -> tuple[Reason, str | None, bool]:
        if reason == _FALLTHROUGH:
            ft = self.fallthrough
            return (Reason.SPLIT if ft.split else Reason.DEFAULT), ft.rule_id, ft.in_experiment
        if reason == _RULE_MATCH:
            candidates = [r for r in self.rules if vid in r.serves] or list(self.rules)
            rule_id = candidates[0].rule_id if len(candidates) == 1 else None
            split = any(r.split for r in candidates)
            included = bool(candidates) and all(r.in_experiment for r in candidates)
            return (Reason.SPLIT if split else Reason.TARGETING_MATCH), rule_id, included
        if reason == _TARGET_MATCH:
            return Reason.TARGETING_MATCH, TARGET_RULE_ID, self.targets_in_experiment
        if reason == _FLAG_OFF:
            return Reason.DISABLED, None, False
        raise _ERRORS.get(reason, GeneralError)(
            f"FeatBit could not evaluate {self.key!r}: {reason}"
        )

    def result(self, kind: str, reason: str, vid: str | None) -> Any:
        """The (shared, immutable) result for a FeatBit outcome.

        :param kind: ``"gate"``, ``"experiment"`` or ``"config"``.
        :raises FlagportError: the outcome is one of FeatBit's error reasons.
        """
        key = (kind, reason, vid)
        found = self.results.get(key)
        if found is not None:
            return found
        if vid is None or vid not in self.values:
            raise _ERRORS.get(reason, GeneralError)(
                f"FeatBit could not evaluate {self.key!r}: {reason}"
            )
        why, rule_id, in_experiment = self._explain(reason, vid)
        value = self.values[vid]
        built: Any
        if kind == "gate":
            built = GateResult(
                name=self.key, value=value is True, reason=why, rule_id=rule_id, provider="featbit"
            )
        elif kind == "experiment":
            built = ExperimentResult(
                name=self.key,
                group=self.groups[vid],
                value=_as_mapping(value),
                in_experiment=in_experiment,
                reason=why,
                rule_id=rule_id,
                provider="featbit",
            )
        else:
            built = ConfigResult(
                name=self.key,
                value=_as_mapping(value),
                reason=why,
                rule_id=rule_id,
                provider="featbit",
            )
        self.results[key] = built
        return built


def _as_mapping(value: Any) -> FrozenDict:
    if isinstance(value, Mapping):
        frozen: FrozenDict = freeze(value)
        return frozen
    wrapped: FrozenDict = freeze({"value": value})
    return wrapped


def compile_flag(flag: Mapping[str, Any]) -> CompiledFlag:
    """Build the :class:`CompiledFlag` of one flag as FeatBit's storage holds it."""
    vtype = str(flag.get("variationType") or "string")
    groups: dict[str, str] = {}
    values: dict[str, Any] = {}
    for variation in flag.get("variations") or ():
        vid = str(variation["id"])
        groups[vid] = str(variation.get("name") or vid)
        values[vid] = _cast(vtype, variation.get("value"))
    return CompiledFlag(
        key=str(flag["key"]),
        variation_type=vtype,
        groups=groups,
        values=values,
        rules=tuple(_rollout(r.get("id"), r) for r in flag.get("rules") or ()),
        fallthrough=_rollout(FALLTHROUGH_RULE_ID, flag.get("fallthrough") or {}),
        targets_in_experiment=bool(flag.get("exptIncludeAllTargets")),
        version=str(flag.get("updatedAt") or ""),
    )


def compile_flags(
    flags: Mapping[str, Mapping[str, Any]], previous: Mapping[str, CompiledFlag] | None = None
) -> dict[str, CompiledFlag]:
    """Compile every flag; a malformed one is left out and logged, never fatal.

    :param previous: the last compilation; flags whose version (``updatedAt``) did not
        change are taken from it, with the results they already built.
    """
    compiled: dict[str, CompiledFlag] = {}
    for key, flag in flags.items():
        name = str(flag.get("key", key))
        known = previous.get(name) if previous else None
        if known is not None and known.version and known.version == flag.get("updatedAt"):
            compiled[name] = known
            continue
        try:
            compiled[name] = compile_flag(flag)
        except (KeyError, TypeError, ValueError, IndexError) as exc:
            warn_once(f"flag:{key}", "flagport featbit: ignoring malformed flag %r: %s", key, exc)
    return compiled


# -- bootstrap -------------------------------------------------------------------------
_FLAG_FIELDS = (
    "id",
    "key",
    "variationType",
    "variations",
    "targetUsers",
    "rules",
    "isEnabled",
    "disabledVariationId",
    "fallthrough",
    "isArchived",
    "updatedAt",
)
_SEGMENT_FIELDS = ("id", "included", "excluded", "rules", "isArchived", "updatedAt")


def _timestamp(value: Any) -> bool:
    try:
        datetime.fromisoformat(str(value))
    except ValueError:
        return False
    return True


def check_data_sync(payload: Any) -> tuple[dict[str, Any], list[tuple[str, str]]]:
    """Normalise a data-sync message (or its ``data`` object) and list its problems.

    :returns: the full message, and ``(json_path, problem)`` pairs (empty when valid).
    """
    if isinstance(payload, Mapping) and "messageType" not in payload and "featureFlags" in payload:
        payload = {"messageType": "data-sync", "data": {"eventType": "full", **payload}}
    problems: list[tuple[str, str]] = []
    if not isinstance(payload, Mapping):
        return {}, [("", "expected a JSON object (a FeatBit data-sync message)")]
    if payload.get("messageType") != "data-sync":
        problems.append(("messageType", 'must be "data-sync"'))
    data = payload.get("data")
    if not isinstance(data, Mapping):
        return dict(payload), [*problems, ("data", "missing or not an object")]
    if data.get("eventType") not in ("full", "patch"):
        problems.append(("data.eventType", 'must be "full" or "patch"'))
    data = {"segments": [], **data}
    for section, required in (("featureFlags", _FLAG_FIELDS), ("segments", _SEGMENT_FIELDS)):
        items = data.get(section)
        if not isinstance(items, list):
            problems.append((f"data.{section}", "missing or not a list"))
            continue
        for i, item in enumerate(items):
            where = f"data.{section}[{i}]"
            if not isinstance(item, Mapping):
                problems.append((where, "not an object"))
                continue
            missing = [f for f in required if f not in item]
            if missing:
                problems.append((where, f"missing {', '.join(missing)}"))
            elif not _timestamp(item["updatedAt"]):
                problems.append((f"{where}.updatedAt", "not an ISO-8601 timestamp"))
            if section == "featureFlags" and "variations" in item:
                if not isinstance(item["variations"], list):
                    problems.append((f"{where}.variations", "not a list"))
                    continue
                ids = {str(v.get("id")) for v in item["variations"] if isinstance(v, Mapping)}
                disabled = item.get("disabledVariationId")
                if not isinstance(disabled, str) or disabled not in ids:
                    problems.append((f"{where}.disabledVariationId", "names no variation"))
    return {**payload, "data": data}, problems
