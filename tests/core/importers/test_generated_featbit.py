"""Generated FeatBit data-sync messages import and verify with 0 mismatches over 2,000 users.

Each example is a message from :func:`featbit_payloads.payloads` (every variation type,
targeted users, rules with every operator and segments, n-way and partial splits,
dispatch keys, off variations, archived flags and segments); ``flagport import featbit
--verify`` compares FeatBit's own SDK (offline, bootstrapped with the message) with the
local provider on the written file for 2,000 users with odd attributes (some with custom
ids named like FeatBit's own fields: :func:`featbit_payloads.featbit_users`). Raise the
examples for a long run:
``FLAGPORT_PROOF_EXAMPLES=200 uv run pytest tests/core/importers/test_generated_featbit.py``.
"""

from __future__ import annotations

from typing import Any

import pytest
from featbit_payloads import SEGMENTS, featbit_users, flag_spec, payloads
from hypothesis import example, given
from import_proof import proof_settings, proof_timeout, verify_payload

USERS = featbit_users(2_000, seed=16)
#: A rule on an archived segment (FeatBit finds nobody in it): the import named a
#: segment it had not written, and the file did not load.
ARCHIVED_SEGMENT = {
    "messageType": "data-sync",
    "data": {
        "eventType": "full",
        "segments": SEGMENTS,
        "featureFlags": [
            flag_spec("f", "string", [{
                "id": "r", "name": "r", "dispatchKey": None, "includedInExpt": False,
                "conditions": [{"property": "User is not in segment", "op": None,
                                "value": '["seg-x", "seg-gone"]'}],
                "variations": [{"id": "v-b", "rollout": [0, 1], "exptRollout": 1}],
            }], {"dispatchKey": None, "includedInExpt": False,
                 "variations": [{"id": "v-a", "rollout": [0, 1], "exptRollout": 1}]})
        ],
    },
}  # fmt: skip
#: A rollout by FeatBit's key and targeted users: a custom id named "key" (or keyId,
#: name) replaced the key the featbit provider sent, where the file kept the user id.
KEY_ROLLOUT = {
    "messageType": "data-sync",
    "data": {
        "eventType": "full",
        "segments": [],
        "featureFlags": [
            flag_spec("by_key", "string", [], {
                "dispatchKey": None, "includedInExpt": False,
                "variations": [{"id": "v-a", "rollout": [0, 0.5], "exptRollout": 1},
                               {"id": "v-b", "rollout": [0.5, 1], "exptRollout": 1}]},
                targetUsers=[{"variationId": "v-c", "keyIds": ["u1", "u2", "u3", "u5"]}]),
        ],
    },
}  # fmt: skip


@pytest.mark.slow
@proof_timeout
@proof_settings
@given(payloads())
@example(ARCHIVED_SEGMENT)
@example(KEY_ROLLOUT)
def test_generated_featbit_payload_verifies_over_2000_users(payload: dict[str, Any]) -> None:
    verify_payload("featbit", payload, USERS)
