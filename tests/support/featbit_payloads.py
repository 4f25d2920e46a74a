"""Hypothesis strategy: FeatBit data-sync messages using every construct the importer takes.

:func:`payloads` draws a full ``data-sync`` message whose flags have every variation
type (string, boolean, number, json, values that do not parse), variation names that
differ from their ids, targeted users, rules with conditions of every operator
(``IsTrue``/``IsFalse``, comparisons of numbers held as text, regular expressions,
lists, segment membership), n-way splits with rollout ranges that need not start at 0
nor cover everything (a partial rollout falls through), a dispatch key per rule (the
user key, a custom attribute, ``name``, a custom id, one no user has), an off variation for
disabled flags, archived flags, and segments with included and excluded users and
rules of their own.

FeatBit's Python SDK has no prerequisites (its evaluator never reads them), so none are
drawn. The attributes match those of :func:`import_proof.odd_users`; :func:`featbit_users`
adds custom ids named like FeatBit's own fields (``key``, ``keyId``, ``name``).
"""

from __future__ import annotations

import json
import random
from typing import Any

from hypothesis import strategies as st
from import_proof import odd_users

_STAMP = "2026-01-01T00:00:00Z"
_VARIATION_IDS = ("v-a", "v-b", "v-c")
_KINDS: dict[str, tuple[str, str, str]] = {
    "string": ("x", "", "ü-😀"),
    "boolean": ("true", "false", "true"),
    "number": ("1", "2.5", "-3"),
    "json": ('{"a": 1}', "[1, 2]", "null"),
    "mixed": ("1", "not json", "{}"),  # a type FeatBit does not know: values stay text
}
CONDITIONS: tuple[dict[str, Any], ...] = (
    {"property": "country", "op": "Equal", "value": "US"},
    {"property": "country", "op": "NotEqual", "value": "us"},
    {"property": "plan", "op": "IsOneOf", "value": json.dumps(["pro", "PRO", ""])},
    {"property": "plan", "op": "NotOneOf", "value": json.dumps(["free"])},
    {"property": "email", "op": "EndsWith", "value": "@acme.com"},
    {"property": "email", "op": "StartsWith", "value": "a"},
    {"property": "company", "op": "Contains", "value": "c1"},
    {"property": "company", "op": "NotContain", "value": "7"},
    {"property": "age", "op": "BiggerThan", "value": "17.5"},
    {"property": "age", "op": "LessEqualThan", "value": "40"},
    {"property": "age", "op": "BiggerEqualThan", "value": "abc"},
    {"property": "version", "op": "MatchRegex", "value": "^1\\.[0-9]+"},
    {"property": "version", "op": "NotMatchRegex", "value": "beta"},
    {"property": "tags", "op": "IsTrue", "value": "IsTrue"},
    {"property": "plan", "op": "IsFalse", "value": "IsFalse"},
    {"property": "name", "op": "Equal", "value": "n1"},
    # A user without a (non-blank) custom name is named by FeatBit's provider after its id.
    {"property": "Name", "op": "StartsWith", "value": "u1"},
    {"property": "keyId", "op": "StartsWith", "value": "u1"},
    {"property": "User is in segment", "op": None, "value": json.dumps(["seg-vip"])},
    {"property": "User is not in segment", "op": None, "value": json.dumps(["seg-vip", "seg-x"])},
)
DISPATCH_KEYS = (None, "keyId", "name", "company", "companyID", "plan", "missing")
SEGMENTS: list[dict[str, Any]] = [
    {
        "id": "seg-vip",
        "envId": "env",
        "name": "vip",
        "included": ["u3", "u4", "u30"],
        "excluded": ["u5", "u33"],
        "rules": [
            {
                "id": "sr-1",
                "name": "acme",
                "conditions": [{"property": "company", "op": "Equal", "value": "acme"}],
            },
            {
                "id": "sr-2",
                "name": "adults in FR",
                "conditions": [
                    {"property": "country", "op": "Equal", "value": "FR"},
                    {"property": "age", "op": "BiggerEqualThan", "value": "18"},
                ],
            },
        ],
        "isArchived": False,
        "createdAt": _STAMP,
        "updatedAt": _STAMP,
    },
    {
        "id": "seg-x",
        "envId": "env",
        "name": "archived",
        "included": ["u1"],
        "excluded": [],
        "rules": [],
        "isArchived": True,
        "createdAt": _STAMP,
        "updatedAt": _STAMP,
    },
]
_cuts = st.integers(0, 100).map(lambda n: n / 100)


@st.composite
def split(draw: st.DrawFn, *, whole: bool) -> dict[str, Any]:
    """One to three variations on consecutive slices, whole ([0, 1]) or not."""
    count = draw(st.integers(1, 3))
    cuts = sorted(draw(st.lists(_cuts, min_size=count + 1, max_size=count + 1)))
    if whole:
        cuts[0], cuts[-1] = 0.0, 1.0
    return {
        "dispatchKey": draw(st.sampled_from(DISPATCH_KEYS)),
        "includedInExpt": draw(st.booleans()),
        "variations": [
            {
                "id": draw(st.sampled_from(_VARIATION_IDS)),
                "rollout": [cuts[i], cuts[i + 1]],
                "exptRollout": 1,
            }
            for i in range(count)
        ],
    }


@st.composite
def flag(draw: st.DrawFn, key: str) -> dict[str, Any]:
    """One FeatBit flag (see the module docstring)."""
    kind = draw(st.sampled_from(sorted(_KINDS)))
    rules = [
        {
            "id": f"{key}-r{n}",
            "name": f"rule {n}",
            "conditions": draw(st.lists(st.sampled_from(CONDITIONS), max_size=3)),
            **draw(split(whole=draw(st.booleans()))),
        }
        for n in range(draw(st.integers(0, 3)))
    ]
    targets = [
        {"variationId": vid, "keyIds": draw(st.lists(st.sampled_from(["u1", "u10", "u22"])))}
        for vid in draw(st.lists(st.sampled_from(_VARIATION_IDS), max_size=2, unique=True))
    ]
    return flag_spec(
        key,
        kind,
        rules,
        # FeatBit's fallthrough holds everyone (its SDK fails on a user it misses).
        draw(split(whole=True)),
        targetUsers=targets,
        isEnabled=draw(st.integers(0, 4)) > 0,
        disabledVariationId=draw(st.sampled_from(_VARIATION_IDS)),
    )


def flag_spec(
    key: str, kind: str, rules: list[dict[str, Any]], fallthrough: dict[str, Any], **more: Any
) -> dict[str, Any]:
    """A FeatBit flag as the data-sync message holds it (``more`` overrides fields)."""
    return {
        "id": f"id-{key}",
        "envId": "env",
        "key": key,
        "name": key,
        "variationType": kind,
        "variations": [
            {"id": vid, "name": f"name {vid}", "value": value}
            for vid, value in zip(_VARIATION_IDS, _KINDS[kind], strict=True)
        ],
        "targetUsers": [],
        "rules": rules,
        "isEnabled": True,
        "disabledVariationId": _VARIATION_IDS[0],
        "fallthrough": fallthrough,
        "exptIncludeAllTargets": True,
        "tags": [],
        "isArchived": False,
        "createdAt": _STAMP,
        "updatedAt": _STAMP,
        **more,
    }


@st.composite
def payloads(draw: st.DrawFn) -> dict[str, Any]:
    """A full FeatBit ``data-sync`` message of two to five flags and the segments."""
    flags = [draw(flag(f"flag_{n}")) for n in range(draw(st.integers(2, 5)))]
    if draw(st.integers(0, 3)) == 0:
        flags.append({**draw(flag("archived")), "isArchived": True})
    return {
        "messageType": "data-sync",
        "data": {"eventType": "full", "featureFlags": flags, "segments": SEGMENTS},
    }


def featbit_users(count: int, seed: int) -> list[dict[str, Any]]:
    """:func:`import_proof.odd_users`, a tenth of them with a custom id named like one of
    FeatBit's own fields (any case) holding another user's id: the featbit provider
    drops it, so FeatBit's key stays the user id."""
    rng = random.Random(seed)
    rows = odd_users(count, seed)
    for row in rows:
        if rng.random() < 0.1:
            clash = rng.choice(("key", "keyId", "KEY", "KeyID", "name", "Name"))
            row["custom_ids"][clash] = rng.choice(rows)["user_id"]
    return rows
