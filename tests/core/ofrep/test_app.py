"""The OFREP ASGI application, called directly through httpx's ASGI transport."""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path
from typing import Any

import pytest
from ofrep_http import OTHER_TOKEN, TOKEN, call

from flagport import ConfigurationError, Flagport
from flagport.ofrep import OfrepApp, ofrep_app

FLAG = "/ofrep/v1/evaluate/flags/"
BULK = "/ofrep/v1/evaluate/flags"
US = {"context": {"targetingKey": "u1", "country": "US", "plan": "pro"}}


# -- single flags ------------------------------------------------------------------------
def test_a_gate_is_a_boolean_flag(app: OfrepApp) -> None:
    response = call(app, FLAG + "new_checkout", US)
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    assert response.json() == {
        "key": "new_checkout",
        "reason": "TARGETING_MATCH",
        "value": True,
        "variant": "true",
        "metadata": {"kind": "gate", "ruleId": "us"},
    }


def test_an_experiment_is_its_group_and_value(app: OfrepApp, fp: Flagport) -> None:
    body = call(app, FLAG + "button_color", US).json()
    expected = fp.get_experiment({"user_id": "u1"}, "button_color")
    assert body["variant"] == expected.group
    assert body["value"] == dict(expected.value)
    assert body["reason"] == "SPLIT"


def test_a_user_outside_an_experiment_gets_the_code_default(app: OfrepApp) -> None:
    body = call(app, FLAG + "company_seats", US).json()  # no company_id: no unit
    assert "value" not in body
    assert body["variant"] == "default"


def test_a_config_is_an_object_flag(app: OfrepApp) -> None:
    body = call(app, FLAG + "pricing", US).json()
    assert body["value"] == {"discount": 0.1, "currency": "USD"}
    assert body["variant"] == "pro"


def test_single_evaluations_log_exposures_bulk_ones_do_not(app: OfrepApp, fp: Flagport) -> None:
    call(app, BULK, US)
    assert fp.stats()["exposures"]["logged"] == 0
    call(app, FLAG + "button_color", US)
    assert fp.stats()["exposures"]["logged"] == 1


def test_an_unknown_flag_is_a_404(app: OfrepApp) -> None:
    response = call(app, FLAG + "nope", US)
    assert response.status_code == 404
    assert response.json() == {
        "key": "nope",
        "errorCode": "FLAG_NOT_FOUND",
        "errorDetails": "no gate, experiment or config 'nope'",
    }


def test_an_override_is_served_as_static(app: OfrepApp, fp: Flagport) -> None:
    fp.override_gate("new_checkout", False)
    body = call(app, FLAG + "new_checkout", US).json()
    assert (body["value"], body["reason"]) == (False, "STATIC")
    assert body["metadata"]["flagportReason"] == "OVERRIDE"


def test_a_name_of_two_kinds_is_served_as_the_gate(
    app: OfrepApp, fp: Flagport, caplog: pytest.LogCaptureFixture
) -> None:
    fp.override_config("new_checkout", {"x": 1})
    with caplog.at_level(logging.WARNING, "flagport.ofrep"):
        assert call(app, FLAG + "new_checkout", US).json()["metadata"]["kind"] == "gate"
        flags = call(app, BULK, US).json()["flags"]
    assert [f["metadata"]["kind"] for f in flags if f["key"] == "new_checkout"] == ["gate"]
    assert "serves the gate" in caplog.text


def test_a_provider_that_did_not_start_is_a_500_not_an_empty_answer(tmp_path: Path) -> None:
    bad = tmp_path / "flags.yaml"
    bad.write_text("gates: [not, a, mapping]\n")
    with Flagport(provider="local", path=str(bad)) as broken:
        app = ofrep_app(broken, tokens=None)
        for path in (BULK, FLAG + "anything"):
            response = call(app, path, US)
            assert response.status_code == 500
            assert set(response.json()) == {"errorDetails"}
            assert "PROVIDER_NOT_READY" in response.json()["errorDetails"]


def test_an_unexpected_failure_is_a_500_without_a_traceback(
    app: OfrepApp, fp: Flagport, monkeypatch: pytest.MonkeyPatch
) -> None:
    def boom() -> Any:
        raise RuntimeError("secret internals")

    monkeypatch.setattr(fp, "names", boom)
    response = call(app, BULK, US)
    assert response.status_code == 500
    assert response.json() == {"errorDetails": "the flag service failed; its log says why"}


# -- bulk and ETags ------------------------------------------------------------------------
def test_bulk_evaluates_every_flag_with_an_etag(app: OfrepApp) -> None:
    response = call(app, BULK, US)
    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"flags"}
    assert [f["key"] for f in body["flags"]] == [
        "new_checkout",
        "staff",
        "button_color",
        "company_seats",
        "pricing",
    ]
    etag = response.headers["etag"]
    assert etag.startswith('"')
    assert etag.endswith('"')
    assert call(app, BULK, US).headers["etag"] == etag  # same answers, same tag


@pytest.mark.parametrize("form", ["{}", "W/{}", '"other", {}', "*"])
def test_a_matching_if_none_match_is_a_304(app: OfrepApp, form: str) -> None:
    etag = call(app, BULK, US).headers["etag"]
    response = call(app, BULK, US, headers={"If-None-Match": form.format(etag)})
    assert response.status_code == 304
    assert response.content == b""
    assert "content-length" not in response.headers
    assert response.headers["etag"] == etag


def test_a_changed_answer_is_a_200_with_a_new_etag(app: OfrepApp, fp: Flagport) -> None:
    etag = call(app, BULK, US).headers["etag"]
    other_user = {"context": {"targetingKey": "u1", "country": "FR"}}
    assert call(app, BULK, other_user, headers={"If-None-Match": etag}).status_code == 200
    fp.override_gate("staff", True)
    changed = call(app, BULK, US, headers={"If-None-Match": etag})
    assert changed.status_code == 200
    assert changed.headers["etag"] != etag


def test_answers_are_not_stored_by_http_caches(app: OfrepApp) -> None:
    """One user's flags, behind a token: no shared cache may keep them (the client
    keeps the ETag itself)."""
    first = call(app, BULK, US)
    again = call(app, BULK, US, headers={"If-None-Match": first.headers["etag"]})
    single = call(app, FLAG + "new_checkout", US)
    refused = call(app, BULK, US, token=None)
    for response in (first, again, single, refused):
        assert response.headers["cache-control"] == "no-store"
    assert again.status_code == 304


def test_the_refetch_query_of_an_event_stream_is_accepted(app: OfrepApp) -> None:
    """OFREP's ``flagConfigEtag``/``flagConfigLastModified`` (and a provider's own
    ``query``) do not change the answer."""
    plain = call(app, BULK, US)
    query = "?flagConfigEtag=abc&flagConfigLastModified=1771622898"
    response = call(app, BULK + query, US, headers={"If-None-Match": plain.headers["etag"]})
    assert response.status_code == 304
    assert call(app, FLAG + "new_checkout?tenant=a", US).json()["value"] is True


# -- authentication ------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("headers", "says"),
    [
        ({}, "no credentials"),
        ({"Authorization": "Bearer wrong-token-0123456789"}, "not one this service accepts"),
        ({"Authorization": f"Basic {TOKEN}"}, "no credentials"),
        ({"Authorization": "Bearer"}, "not one this service accepts"),
        ({"X-API-Key": "wrong"}, "not one this service accepts"),
    ],
)
def test_requests_without_a_valid_token_are_refused(
    app: OfrepApp, headers: dict[str, str], says: str
) -> None:
    for path in (BULK, FLAG + "new_checkout"):
        response = call(app, path, US, token=None, headers=headers)
        assert response.status_code == 401
        assert says in response.json()["errorDetails"]
        assert response.headers["www-authenticate"].startswith("Bearer")
        assert TOKEN not in response.text


@pytest.mark.parametrize(
    "headers",
    [
        {"Authorization": f"Bearer {OTHER_TOKEN}"},
        {"Authorization": f"bearer {TOKEN}"},
        {"X-API-Key": TOKEN},
    ],
)
def test_any_configured_token_is_accepted(app: OfrepApp, headers: dict[str, str]) -> None:
    assert call(app, BULK, US, token=None, headers=headers).status_code == 200


def test_tokens_none_serves_without_authentication(fp: Flagport) -> None:
    assert call(ofrep_app(fp, tokens=None), BULK, US, token=None).status_code == 200


@pytest.mark.parametrize(
    ("tokens", "says"),
    [
        (TOKEN, "a list of tokens, not one string"),
        ([], "would refuse every request"),
        (["short"], "token #1 has 5 characters; use at least 16"),
        ([TOKEN, 12345], "token #2 must be a str"),
        (["with a space 0123456789"], "printable ASCII without spaces"),
        (["caf\u00e9-0123456789abcdef"], "printable ASCII"),
    ],
)
def test_unusable_tokens_are_refused_at_construction(fp: Flagport, tokens: Any, says: str) -> None:
    with pytest.raises(ConfigurationError, match=says) as caught:
        ofrep_app(fp, tokens=tokens)
    assert TOKEN not in str(caught.value)
    assert "with a space" not in str(caught.value)


def test_tokens_never_show(app: OfrepApp, caplog: pytest.LogCaptureFixture) -> None:
    assert TOKEN not in repr(app)
    assert OTHER_TOKEN not in repr(app)
    assert "2 tokens" in repr(app)
    with caplog.at_level(logging.INFO):
        logging.getLogger("some.proxy").info("headers: Authorization: Bearer %s", TOKEN)
    assert TOKEN not in caplog.text
    assert "Bearer ***" in caplog.text


# -- bad requests --------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("content", "code", "says"),
    [
        (b"{not json", "PARSE_ERROR", "not JSON: Expecting property name"),
        (b"", "PARSE_ERROR", "has no body"),
        (b"\xff\xfe\x00garbage", "PARSE_ERROR", "not JSON"),
        (b"[" * 50_000, "PARSE_ERROR", "nested too deeply"),
        (b"[1, 2]", "INVALID_CONTEXT", "must be a JSON object"),
        (b'{"ctx": {}}', "INVALID_CONTEXT", "has no 'context'"),
        (b'{"context": "u1"}', "INVALID_CONTEXT", "'context' must be a JSON object"),
        (b'{"context": {"email": true}}', "INVALID_CONTEXT", "'email' must be a string"),
    ],
)
def test_bad_requests_get_the_protocol_error(
    app: OfrepApp, content: bytes, code: str, says: str
) -> None:
    single = call(app, FLAG + "new_checkout", content=content)
    assert single.status_code == 400
    assert single.json()["key"] == "new_checkout"  # evaluationFailure
    assert single.json()["errorCode"] == code
    assert says in single.json()["errorDetails"]
    bulk = call(app, BULK, content=content)
    assert bulk.status_code == 400
    assert set(bulk.json()) == {"errorCode", "errorDetails"}  # bulkEvaluationFailure
    assert bulk.json()["errorCode"] == code


def test_a_body_over_the_limit_is_refused_unread(fp: Flagport) -> None:
    app = ofrep_app(fp, tokens=None, max_body_bytes=1024)
    response = call(app, BULK, content=b'{"context": {"pad": "' + b"x" * 5000 + b'"}}')
    assert response.status_code == 413
    assert response.json()["errorCode"] == "PARSE_ERROR"
    assert "over 1024 bytes" in response.json()["errorDetails"]


def _raw(app: OfrepApp, chunks: list[bytes], headers: list[tuple[bytes, bytes]]) -> list[Any]:
    """Drive ``app`` by hand with a streamed body (no Content-Length): the messages it
    sent; ``chunks`` is left with what it never read."""
    sent: list[Any] = []
    total = len(chunks)
    pending = [
        {"type": "http.request", "body": chunks.pop(0), "more_body": i < total - 1}
        for i in range(total)
    ]
    scope = {"type": "http", "method": "POST", "path": BULK, "headers": headers}

    async def receive() -> dict[str, Any]:
        return pending.pop(0) if pending else {"type": "http.disconnect"}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    asyncio.run(app(scope, receive, send))
    chunks.extend(m["body"] for m in pending)
    return sent


def test_a_streamed_body_is_cut_off_at_the_limit(fp: Flagport) -> None:
    app = ofrep_app(fp, tokens=None, max_body_bytes=1024)
    chunks = [b'{"context": {"pad": "'] + [b"x" * 512] * 1000
    sent = _raw(app, chunks, [])
    assert sent[0]["status"] == 413
    # Three chunks read, not a thousand: the rest was never pulled from the client.
    assert len(chunks) == 1001 - 3


def test_a_client_that_goes_away_gets_nothing(fp: Flagport) -> None:
    app = ofrep_app(fp, tokens=None)
    assert _raw(app, [], []) == []


def test_a_streamed_body_within_the_limit_is_read_whole(fp: Flagport) -> None:
    app = ofrep_app(fp, tokens=None)
    sent = _raw(app, [b'{"context": ', b'{"targetingKey": "u1"}}'], [])
    assert sent[0]["status"] == 200


@pytest.mark.parametrize("method", ["GET", "PUT", "DELETE"])
def test_other_methods_are_405(app: OfrepApp, method: str) -> None:
    response = call(app, BULK, method=method)
    assert response.status_code == 405
    assert response.headers["allow"] == "POST"


@pytest.mark.parametrize("path", ["/", "/ofrep/v1/evaluate/flags/", "/ofrep/v2/evaluate/flags"])
def test_other_paths_are_404(app: OfrepApp, path: str) -> None:
    response = call(app, path, US)
    assert response.status_code == 404
    assert "no OFREP endpoint" in response.json()["errorDetails"]


def test_mounted_under_a_prefix(app: OfrepApp) -> None:
    sent: list[Any] = []
    body = b'{"context": {"targetingKey": "u1"}}'
    messages = [{"type": "http.request", "body": body, "more_body": False}]
    scope = {
        "type": "http",
        "method": "POST",
        "root_path": "/flags",
        "path": "/flags" + BULK,
        "headers": [(b"authorization", f"Bearer {TOKEN}".encode())],
    }

    async def receive() -> Any:
        return messages.pop(0)

    async def send(message: Any) -> None:
        sent.append(message)

    asyncio.run(app(scope, receive, send))
    assert sent[0]["status"] == 200


def test_lifespan_starts_the_provider_and_completes(app: OfrepApp, fp: Flagport) -> None:
    sent: list[Any] = []
    messages = [{"type": "lifespan.startup"}, {"type": "lifespan.shutdown"}]

    async def receive() -> Any:
        return messages.pop(0)

    async def send(message: Any) -> None:
        sent.append(message)

    asyncio.run(app({"type": "lifespan"}, receive, send))
    assert [m["type"] for m in sent] == ["lifespan.startup.complete", "lifespan.shutdown.complete"]
    assert fp.stats()["provider"]["status"] == "READY"


def test_a_websocket_is_closed(app: OfrepApp) -> None:
    sent: list[Any] = []

    async def receive() -> Any:
        return {"type": "websocket.connect"}

    async def send(message: Any) -> None:
        sent.append(message)

    asyncio.run(app({"type": "websocket", "path": BULK, "headers": []}, receive, send))
    assert sent == [{"type": "websocket.close", "code": 1008}]


def test_bad_options_are_refused(fp: Flagport) -> None:
    with pytest.raises(ConfigurationError, match="max_body_bytes"):
        ofrep_app(fp, tokens=None, max_body_bytes=0)
