"""The SDK's fetch failures in plain words (``flagport_growthbook._sdk_log``).

The GrowthBook SDK logs any failed features download as "Failed to decode feature JSON
from GrowthBook API"; a host that does not resolve (the ``.invalid`` top-level domain
never does) must read as what it is, naming the host and the option to check.
"""

from __future__ import annotations

import logging

import pytest

from flagport import Flagport, User

USER = User(user_id="u1")
KEY = "sdk-log-wording-key"


def _sdk_errors(api_host: str, caplog: pytest.LogCaptureFixture) -> list[str]:
    caplog.set_level(logging.ERROR, logger="growthbook")
    with Flagport(
        provider="growthbook", api_host=api_host, client_key=KEY, http_timeout=1, init_timeout=1
    ) as fp:
        assert fp.get_gate(USER, "new_checkout").error_code == "PROVIDER_NOT_READY"
    return [r.getMessage() for r in caplog.records if r.name == "growthbook"]


def test_an_unresolvable_api_host_is_named_as_such(caplog: pytest.LogCaptureFixture) -> None:
    messages = _sdk_errors("http://flags.invalid", caplog)
    assert messages
    # Before: "Failed to decode feature JSON from GrowthBook API: ..." and nothing else.
    assert messages[0].startswith(
        "cannot fetch features from the GrowthBook API at flags.invalid:80: cannot resolve "
        "the host name; check api_host (and the network). The SDK reports this as: Failed "
        "to decode feature JSON"
    )
    assert KEY not in caplog.text


def test_a_refused_connection_is_named_as_such(caplog: pytest.LogCaptureFixture) -> None:
    messages = _sdk_errors("http://127.0.0.1:9", caplog)
    assert messages
    assert messages[0].startswith(
        "cannot fetch features from the GrowthBook API at 127.0.0.1:9: the connection was "
        "refused; check api_host"
    )


def test_other_sdk_records_pass_unchanged(caplog: pytest.LogCaptureFixture) -> None:
    from flagport_growthbook._sdk_log import explain_fetch_errors

    explain_fetch_errors()
    explain_fetch_errors()  # once per process, however many providers start
    sdk = logging.getLogger("growthbook")
    assert len(sdk.filters) == 1
    caplog.set_level(logging.ERROR, logger="growthbook")
    sdk.error("Failed to decode feature JSON from GrowthBook API: Expecting value: line 1")
    assert [r.getMessage() for r in caplog.records] == [
        "Failed to decode feature JSON from GrowthBook API: Expecting value: line 1"
    ]
