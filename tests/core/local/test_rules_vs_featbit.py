"""FeatBit flags, translated by ``flagport.importers.featbit``, evaluate the same.

Hypothesis writes random FeatBit flags (enabled or off, targeted users, rules with
string conditions, n-way splits with rollout ranges that need not start at 0 nor cover
everything, dispatch keys that some users lack or hold as numbers and booleans, a
fallthrough), the importer translates them, and 1,500 users are evaluated by FeatBit's
own SDK (offline, bootstrapped with the same data-sync payload) and by the local
provider: the value and the variation id must agree for every user and flag.
"""

from __future__ import annotations

import json
import logging
import os
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from flagport import User
from flagport.importers.featbit import import_payload
from flagport.providers.local import LocalProvider
from flagport.providers.local.conditions.featbit import featbit_text
from flagport.results import thaw

fbclient = pytest.importorskip("fbclient")

EXAMPLES = int(os.environ.get("FLAGPORT_DIFF_EXAMPLES", "12"))
ODD: list[Any] = ["", 0, 7, 2.5, True, "ünï-😀", "x", None]


def _users(count: int) -> list[tuple[User, dict[str, Any]]]:
    users = []
    for i in range(count):
        custom: dict[str, Any] = {"name": f"n{i % 17}"}
        if (company := ODD[i % len(ODD)]) is not None:
            custom["company"] = company
        if i % 4:
            custom["country"] = ["US", "CA", "FR", "", "us"][i % 5]
        user = User(user_id=f"u{i}", custom=custom)
        # What the FeatBit provider sends: each value as the text FeatBit compares.
        theirs = {"key": user.user_id, **{k: featbit_text(v) for k, v in custom.items()}}
        users.append((user, theirs))
    return users


USERS = _users(1_500)
VARIATIONS = ["a", "b", "c"]
fractions = st.integers(0, 100).map(lambda n: n / 100)
conditions = st.sampled_from(
    [
        {"property": "country", "op": "Equal", "value": "US"},
        {"property": "country", "op": "NotEqual", "value": "US"},
        {"property": "country", "op": "IsOneOf", "value": json.dumps(["US", "CA"])},
        {"property": "country", "op": "NotOneOf", "value": json.dumps(["FR"])},
        {"property": "name", "op": "StartsWith", "value": "n1"},
        {"property": "name", "op": "EndsWith", "value": "3"},
        {"property": "name", "op": "Contains", "value": "1"},
        {"property": "company", "op": "IsTrue", "value": "IsTrue"},
        {"property": "company", "op": "BiggerThan", "value": "5"},
        {"property": "User is in segment", "op": None, "value": json.dumps(["seg-1"])},
        {"property": "User is not in segment", "op": None, "value": json.dumps(["seg-1"])},
    ]
)
SEGMENT = {
    "id": "seg-1",
    "envId": "local-env",
    "name": "seg-1",
    "included": ["u3", "u4"],
    "excluded": ["u5"],
    "rules": [
        {
            "id": "sr",
            "name": "sr",
            "conditions": [{"property": "country", "op": "Equal", "value": "CA"}],
        }
    ],
    "isArchived": False,
    "createdAt": "2026-01-01T00:00:00Z",
    "updatedAt": "2026-01-01T00:00:00Z",
}


@st.composite
def rollout(draw: st.DrawFn, full: bool = False) -> dict[str, Any]:
    """Variations with ranges: consecutive slices from a start, possibly partial."""
    count = draw(st.integers(1, 3))
    cuts = sorted(draw(st.lists(fractions, min_size=count + 1, max_size=count + 1)))
    # FeatBit's fallthrough always holds everyone (its SDK fails on a user it misses).
    if full or draw(st.booleans()):
        cuts[0], cuts[-1] = 0.0, 1.0
    variations = [
        {"id": draw(st.sampled_from(VARIATIONS)), "rollout": [cuts[i], cuts[i + 1]]}
        for i in range(count)
    ]
    dispatch = draw(st.sampled_from([None, "keyId", "name", "company", "missing"]))
    return {"dispatchKey": dispatch, "includedInExpt": True, "variations": variations}


@st.composite
def flag(draw: st.DrawFn, key: str) -> dict[str, Any]:
    kind, values = draw(
        st.sampled_from(
            [
                ("string", ["x", "y", ""]),
                ("boolean", ["true", "false", "true"]),
                ("number", ["1", "2.5", "-3"]),
                ("json", ['{"a": 1}', "[1, 2]", "null"]),
            ]
        )
    )
    rules = [
        {
            "id": f"r{n}",
            "name": f"r{n}",
            "conditions": draw(st.lists(conditions, max_size=2)),
            **draw(rollout()),
        }
        for n in range(draw(st.integers(0, 3)))
    ]
    targets = []
    if draw(st.booleans()):
        targets = [{"variationId": "b", "keyIds": ["u1", "u10", "u100"]}]
    stamp = "2026-01-01T00:00:00Z"
    fallthrough = draw(rollout(full=True))
    if draw(st.integers(0, 3)):
        fallthrough["variations"] = [{"id": "a", "rollout": [0, 1]}]
    return {
        "id": f"id-{key}",
        "envId": "local-env",
        "key": key,
        "name": key,
        "variationType": kind,
        "variations": [
            {"id": vid, "value": value} for vid, value in zip(VARIATIONS, values, strict=True)
        ],
        "targetUsers": targets,
        "rules": rules,
        "isEnabled": draw(st.integers(0, 5)) > 0,
        "disabledVariationId": draw(st.sampled_from(VARIATIONS)),
        "fallthrough": fallthrough,
        "exptIncludeAllTargets": True,
        "tags": [],
        "isArchived": False,
        "createdAt": stamp,
        "updatedAt": stamp,
    }


@st.composite
def payloads(draw: st.DrawFn) -> dict[str, Any]:
    flags = [draw(flag(f"flag-{n}")) for n in range(draw(st.integers(1, 3)))]
    data = {"eventType": "full", "featureFlags": flags, "segments": [SEGMENT]}
    return {"messageType": "data-sync", "data": data}


def _same(value: Any) -> str:
    return json.dumps(value, sort_keys=True)


@settings(
    max_examples=EXAMPLES,
    derandomize=True,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(payloads())
def test_imported_flags_evaluate_as_featbit(payload: dict[str, Any]) -> None:
    logging.getLogger("fbclient").setLevel(logging.CRITICAL)
    imported = import_payload(payload)
    assert imported.left_out == []
    provider = LocalProvider(LocalProvider.Options(flags=imported.flags, watch=False))
    provider.start()
    config = fbclient.Config("offline-env-secret", "http://unused", "ws://unused", offline=True)
    client = fbclient.FBClient(config, 0)
    assert client.initialize_from_external_json(json.dumps(payload))
    keys = [f["key"] for f in payload["data"]["featureFlags"]]
    mismatch = None
    try:
        for user, theirs in USERS:
            for key in keys:
                ours = provider.evaluate_experiment(user, key)
                detail = client.variation_detail(key, theirs, None)
                mine = (_same(thaw(ours.value)), ours.group)
                if mine != (expected := (_same(detail.variation), detail.variation_id)):
                    mismatch = (key, theirs, mine, expected)
                    break
            if mismatch:
                break  # one is enough, and shrinking stays quick
    finally:
        client.stop()
    assert mismatch is None
