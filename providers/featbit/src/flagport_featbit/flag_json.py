"""Builders for FeatBit flag JSON: flags, variations, rules, segments, data-sync messages.

What FeatBit's evaluation server sends its SDKs and what the provider's ``bootstrap``
option reads. :mod:`flagport_featbit.testing` serves them from a loopback server and
re-exports every builder, so ``from flagport_featbit.testing import make_flag`` works.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

__all__ = [
    "EPOCH_MS",
    "condition",
    "data_sync",
    "in_segment",
    "iso",
    "make_flag",
    "rollout",
    "rule",
    "scenario_flags",
    "segment",
    "variation",
]
EPOCH_MS = 1_767_225_600_000  # 2026-01-01T00:00:00Z: a stable default updatedAt


def iso(ms: int) -> str:
    """Unix milliseconds as FeatBit writes a time (``2026-01-01T00:00:00.000Z``)."""
    return datetime.fromtimestamp(ms / 1000, UTC).isoformat(timespec="milliseconds")[:-6] + "Z"


def variation(vid: str, value: Any, name: str | None = None) -> dict[str, Any]:
    """A variation; ``value`` is a Python value, stored as FeatBit's string encoding."""
    text = value if isinstance(value, str) else json.dumps(value)
    return {"id": vid, "name": name or vid, "value": text}


def rollout(
    *shares: tuple[str, float], dispatch_key: str | None = None, in_experiment: bool = False
) -> dict[str, Any]:
    """A rollout over variations: ``rollout(("on", 0.5), ("off", 0.5))``.

    :param dispatch_key: the user property that buckets (default: the user key).
    :param in_experiment: FeatBit's ``includedInExpt``: this traffic is experiment traffic.
    """
    start, parts = 0.0, []
    for vid, share in shares:
        end = 1.0 if abs(start + share - 1.0) < 1e-9 else start + share
        parts.append({"id": vid, "rollout": [start, end], "exptRollout": 1})
        start = end
    return {"dispatchKey": dispatch_key, "includedInExpt": in_experiment, "variations": parts}


def condition(prop: str, op: str, value: Any) -> dict[str, Any]:
    """A rule condition (``op`` is FeatBit's: ``Equal``, ``IsOneOf``, ``BiggerThan``…)."""
    text = value if isinstance(value, str) else json.dumps(value)
    return {"property": prop, "op": op, "value": text}


def rule(
    rule_id: str, conditions: Sequence[Mapping[str, Any]], serve: Mapping[str, Any]
) -> dict[str, Any]:
    """A targeting rule: all ``conditions`` must match; ``serve`` is a :func:`rollout`."""
    return {"id": rule_id, "name": rule_id, "conditions": list(conditions), **serve}


def make_flag(
    key: str,
    variation_type: str,
    variations: Sequence[Mapping[str, Any]],
    *,
    fallthrough: Mapping[str, Any],
    rules: Sequence[Mapping[str, Any]] = (),
    enabled: bool = True,
    disabled_variation: str | None = None,
    targets: Mapping[str, Sequence[str]] | None = None,
    targets_in_experiment: bool = True,
    tags: Sequence[str] = (),
    updated_at: int = EPOCH_MS,
) -> dict[str, Any]:
    """A complete FeatBit feature flag, as the data-sync message carries it.

    :param variation_type: ``boolean``, ``string``, ``number`` or ``json``.
    :param targets: user keys pinned to a variation, by variation id.
    :param updated_at: the version, in Unix milliseconds.
    """
    return {
        "id": f"id-{key}",
        "envId": "loopback-env",
        "key": key,
        "name": key,
        "variationType": variation_type,
        "variations": [dict(v) for v in variations],
        "targetUsers": [
            {"variationId": vid, "keyIds": list(keys)} for vid, keys in (targets or {}).items()
        ],
        "rules": [dict(r) for r in rules],
        "isEnabled": enabled,
        "disabledVariationId": disabled_variation or str(variations[-1]["id"]),
        "fallthrough": dict(fallthrough),
        "exptIncludeAllTargets": targets_in_experiment,
        "tags": list(tags),
        "isArchived": False,
        "createdAt": iso(EPOCH_MS),
        "updatedAt": iso(updated_at),
    }


def segment(
    segment_id: str,
    *,
    included: Sequence[str] = (),
    excluded: Sequence[str] = (),
    rules: Sequence[Mapping[str, Any]] = (),
    updated_at: int = EPOCH_MS,
) -> dict[str, Any]:
    """A FeatBit segment: user keys in or out, or users matching any of ``rules``
    (each ``{"conditions": [...]}``). Flags test it with :func:`in_segment`."""
    return {
        "id": segment_id,
        "envId": "loopback-env",
        "name": segment_id,
        "included": list(included),
        "excluded": list(excluded),
        "rules": [dict(r) for r in rules],
        "isArchived": False,
        "createdAt": iso(EPOCH_MS),
        "updatedAt": iso(updated_at),
    }


def in_segment(*segment_ids: str) -> dict[str, Any]:
    """The rule condition "user is in one of these segments"."""
    return {"property": "User is in segment", "op": "", "value": json.dumps(list(segment_ids))}


def data_sync(
    flags: Iterable[Mapping[str, Any]],
    segments: Iterable[Mapping[str, Any]] = (),
    event_type: str = "full",
) -> dict[str, Any]:
    """The data-sync message: what the server sends and what ``bootstrap`` accepts."""
    return {
        "messageType": "data-sync",
        "data": {
            "eventType": event_type,
            "featureFlags": [copy.deepcopy(dict(f)) for f in flags],
            "segments": [copy.deepcopy(dict(s)) for s in segments],
        },
    }


def scenario_flags() -> list[dict[str, Any]]:
    """flagport's common product scenario in FeatBit's model.

    * ``new_checkout`` (boolean): on for ``country == "US"``, 50 % of everyone else;
    * ``button_color`` (json): control / blue / green, a third each, parameter
      ``{"color": ...}``, all traffic included in the experiment;
    * ``pricing`` (json): ``{"discount": 0.1}`` for ``plan == "pro"``, else
      ``{"discount": 0}``.

    FeatBit has no event definitions: the scenario's ``purchase`` event is a metric
    named ``purchase`` (see the README for how value and metadata are carried).
    """
    on_off = [variation("on", True), variation("off", False)]
    colors = [
        variation("v-control", {"color": "gray"}, "control"),
        variation("v-blue", {"color": "blue"}, "blue"),
        variation("v-green", {"color": "green"}, "green"),
    ]
    third = 1 / 3
    return [
        make_flag(
            "new_checkout",
            "boolean",
            on_off,
            rules=[rule("rule-us", [condition("country", "Equal", "US")], rollout(("on", 1.0)))],
            fallthrough=rollout(("on", 0.5), ("off", 0.5)),
            disabled_variation="off",
        ),
        make_flag(
            "button_color",
            "json",
            colors,
            fallthrough=rollout(
                ("v-control", third), ("v-blue", third), ("v-green", third), in_experiment=True
            ),
            disabled_variation="v-control",
        ),
        make_flag(
            "pricing",
            "json",
            [variation("pro", {"discount": 0.1}), variation("standard", {"discount": 0})],
            rules=[rule("rule-pro", [condition("plan", "Equal", "pro")], rollout(("pro", 1.0)))],
            fallthrough=rollout(("standard", 1.0)),
            disabled_variation="standard",
        ),
    ]
