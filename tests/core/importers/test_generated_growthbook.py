"""Generated GrowthBook payloads import and verify with 0 mismatches over 2,000 users.

Each example is a payload from :func:`growthbook_payloads.payloads` (every construct
the importer translates); ``flagport import growthbook --verify`` compares GrowthBook's
own SDK (offline, bootstrapped with the payload) with the local provider on the written
file for 2,000 users with odd attributes. The examples are few by default; raise them
for a long run: ``FLAGPORT_PROOF_EXAMPLES=200 uv run pytest tests/core/importers/
test_generated_growthbook.py``.
"""

from __future__ import annotations

from typing import Any

import pytest
from growthbook_payloads import payloads
from hypothesis import example, given
from import_proof import odd_users, proof_settings, proof_timeout, verify_payload

USERS = odd_users(2_000, seed=16, gb_id=True)
#: A variation whose value is null: GrowthBook's provider serves null (the client then
#: serves the caller's default); --verify wrapped the local side's null as {"value": null}.
#: A config whose values mix a boolean and a number: GrowthBook's provider serves
#: {"value": False}, the file False, which the comparison took for a mismatch.
BOOLEAN_IN_A_CONFIG = {
    "features": {
        "f": {"defaultValue": False, "rules": [{"force": 1, "condition": {"country": "US"}}]}
    }
}
NULL_VARIATION = {
    "features": {"f": {"defaultValue": "a", "rules": [{"variations": [None, "b"], "key": "e"}]}}
}


@pytest.mark.slow
@proof_timeout
@proof_settings
@given(payloads())
@example(NULL_VARIATION)
@example(BOOLEAN_IN_A_CONFIG)
def test_generated_growthbook_payload_verifies_over_2000_users(payload: dict[str, Any]) -> None:
    verify_payload("growthbook", payload, USERS)
