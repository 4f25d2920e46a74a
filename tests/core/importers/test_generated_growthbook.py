"""Generated GrowthBook payloads import and verify with 0 mismatches over 2,000 users.

Each example is a payload from :func:`growthbook_payloads.payloads` (every construct
the importer translates); ``flagport import growthbook --verify`` compares GrowthBook's
own SDK (offline, bootstrapped with the payload) with the local provider on the written
file for 2,000 users with odd attributes. The examples are few by default; raise them
for a long run: ``FLAGPORT_PROOF_EXAMPLES=200 uv run pytest tests/core/importers/
test_generated_growthbook.py``.
"""

from __future__ import annotations

import os
from typing import Any

import pytest
from growthbook_payloads import payloads
from hypothesis import HealthCheck, Phase, example, given, settings
from import_proof import odd_users, verify_payload

EXAMPLES = int(os.environ.get("FLAGPORT_PROOF_EXAMPLES", "10"))
USERS = odd_users(2_000, seed=16, gb_id=True)
#: A variation whose value is null: GrowthBook's provider serves null (the client then
#: serves the caller's default); --verify wrapped the local side's null as {"value": null}.
NULL_VARIATION = {
    "features": {"f": {"defaultValue": "a", "rules": [{"variations": [None, "b"], "key": "e"}]}}
}


@pytest.mark.slow
@pytest.mark.timeout(max(120, EXAMPLES * 10))
@settings(
    max_examples=EXAMPLES,
    deadline=None,
    # No shrinking: each example costs seconds; the failure names the flag, the users
    # and both answers, and Hypothesis prints the payload.
    phases=[Phase.explicit, Phase.reuse, Phase.generate],
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(payloads())
@example(NULL_VARIATION)
def test_generated_growthbook_payload_verifies_over_2000_users(payload: dict[str, Any]) -> None:
    verify_payload("growthbook", payload, USERS)
