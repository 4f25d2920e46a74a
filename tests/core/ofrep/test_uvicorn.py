"""OFREP end to end: a real uvicorn server on 127.0.0.1, OpenFeature's published OFREP
provider as the client (and httpx for the bulk endpoint, which that provider does not
use)."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest
from ofrep_http import TOKEN, served
from openfeature import api
from openfeature.client import OpenFeatureClient
from openfeature.contrib.provider.ofrep import OFREPProvider
from openfeature.evaluation_context import EvaluationContext
from openfeature.exception import ErrorCode
from openfeature.flag_evaluation import Reason

from flagport import Flagport
from flagport.ofrep import OfrepApp


@pytest.fixture
def base_url(app: OfrepApp) -> Iterator[str]:
    """The application served by uvicorn on a free loopback port, for one test."""
    with served(app) as url:
        yield url


def _client(base_url: str, token: str, domain: str) -> OpenFeatureClient:
    provider = OFREPProvider(base_url, headers_factory=lambda: {"Authorization": f"Bearer {token}"})
    api.set_provider(provider, domain)
    return api.get_client(domain)


@pytest.fixture
def of_client(base_url: str) -> Iterator[OpenFeatureClient]:
    yield _client(base_url, TOKEN, "flagport-ofrep")
    api.clear_providers()


US = EvaluationContext("u1", {"country": "US", "plan": "pro"})
FR = EvaluationContext("u1", {"country": "FR"})


def test_a_gate_through_the_ofrep_provider(of_client: OpenFeatureClient) -> None:
    details = of_client.get_boolean_details("new_checkout", False, US)
    assert details.value is True
    assert details.reason == Reason.TARGETING_MATCH
    assert details.variant == "true"
    assert details.flag_metadata == {"kind": "gate", "ruleId": "us"}
    assert details.error_code is None
    assert of_client.get_boolean_value("new_checkout", True, FR) is False


def test_an_experiment_and_a_config(of_client: OpenFeatureClient, fp: Flagport) -> None:
    details = of_client.get_object_details("button_color", {}, US)
    expected = fp.get_experiment({"user_id": "u1"}, "button_color", expose=False)
    assert details.variant == expected.group
    assert details.value == dict(expected.value)
    assert details.reason == Reason.SPLIT
    pricing = of_client.get_object_value("pricing", {}, US)
    assert pricing == {"discount": 0.1, "currency": "USD"}


def test_outside_an_experiment_the_code_default_is_served(of_client: OpenFeatureClient) -> None:
    details = of_client.get_object_details("company_seats", {"per_seat": 99}, US)
    assert details.value == {"per_seat": 99}
    assert details.error_code is None
    in_it = EvaluationContext("u1", {"custom_ids": {"company_id": "7"}})
    assert of_client.get_object_value("company_seats", {}, in_it) == {"per_seat": 12}


def test_errors_reach_the_client_as_openfeature_errors(of_client: OpenFeatureClient) -> None:
    missing = of_client.get_boolean_details("nope", True, US)
    assert (missing.value, missing.error_code) == (True, ErrorCode.FLAG_NOT_FOUND)
    bad = of_client.get_boolean_details(
        "new_checkout", True, EvaluationContext("u1", {"email": [1]})
    )
    assert (bad.value, bad.error_code) == (True, ErrorCode.INVALID_CONTEXT)
    assert "'email' must be a string" in (bad.error_message or "")
    mismatch = of_client.get_boolean_details("pricing", False, US)
    assert (mismatch.value, mismatch.error_code) == (False, ErrorCode.TYPE_MISMATCH)


def test_a_wrong_token_is_refused(base_url: str) -> None:
    client = _client(base_url, "wrong-token-0123456789abcdef", "flagport-ofrep-wrong")
    try:
        details = client.get_boolean_details("new_checkout", False, US)
    finally:
        api.clear_providers()
    assert details.error_code == ErrorCode.GENERAL
    assert details.error_message == "unauthorized"


def test_bulk_with_etag_over_http(base_url: str) -> None:
    url = f"{base_url}/ofrep/v1/evaluate/flags"
    auth = {"Authorization": f"Bearer {TOKEN}"}
    body = {"context": {"targetingKey": "u1", "country": "US"}}
    with httpx.Client(headers=auth) as http:
        first = http.post(url, json=body)
        assert first.status_code == 200
        assert {f["key"] for f in first.json()["flags"]} >= {"new_checkout", "pricing"}
        again = http.post(url, json=body, headers={"If-None-Match": first.headers["etag"]})
        assert again.status_code == 304
        assert again.content == b""
        too_big = http.post(url, content=b"x" * 100_000)
        assert too_big.status_code == 413
        assert too_big.json()["errorCode"] == "PARSE_ERROR"
