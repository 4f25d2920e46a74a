"""Requests built to hurt the OFREP endpoint: a context nested just under the JSON
parser's limit, lone surrogates in the context or the flag key, a token with a NUL. Each
is the client's mistake, answered 4xx with a reason, with no traceback in the log (one
per request would let any client flood it)."""

from __future__ import annotations

import asyncio
import json
import logging
from typing import Any

import pytest
from ofrep_http import TOKEN, call

from flagport.ofrep import OfrepApp
from flagport.ofrep.evaluation import MAX_CONTEXT_DEPTH

BULK = "/ofrep/v1/evaluate/flags"
ONE = BULK + "/new_checkout"


def _nested(levels: int) -> str:
    return "[" * levels + "]" * levels


@pytest.fixture(autouse=True)
def _no_error_logged(caplog: pytest.LogCaptureFixture) -> Any:
    caplog.set_level(logging.WARNING, logger="flagport")
    yield
    assert [r.getMessage()[:200] for r in caplog.records] == []


@pytest.mark.parametrize("path", [BULK, ONE])
@pytest.mark.parametrize(
    ("context", "details"),
    [
        # Under json's own limit (about 990 levels), over the stack of what walks it.
        ('{"targetingKey": "u", "a": ' + _nested(900) + "}", "nests deeper than"),
        ('{"targetingKey": "\\ud800"}', "not Unicode text"),
        ('{"targetingKey": "u", "country": "\\udfff"}', "not Unicode text"),
        ('{"targetingKey": "u", "\\ud800": 1}', "not Unicode text"),
    ],
    ids=["900-deep", "surrogate-key", "surrogate-attribute", "surrogate-name"],
)
def test_a_hostile_context_is_a_400_with_its_reason(
    app: OfrepApp, path: str, context: str, details: str
) -> None:
    response = call(app, path, content=f'{{"context": {context}}}'.encode())
    assert response.status_code == 400
    body = response.json()
    assert body["errorCode"] == "INVALID_CONTEXT"
    assert details in body["errorDetails"]


def test_a_context_as_deep_as_allowed_is_evaluated(app: OfrepApp) -> None:
    # The context object is level 1; each list one more.
    value = json.loads(_nested(MAX_CONTEXT_DEPTH - 1))
    response = call(app, ONE, {"context": {"targetingKey": "u", "a": value}})
    assert response.status_code == 200, response.text
    response = call(app, ONE, {"context": {"targetingKey": "u", "a": [value]}})
    assert response.status_code == 400


def _raw(app: OfrepApp, path: str, headers: list[tuple[bytes, bytes]]) -> tuple[int, bytes]:
    """One request with ``path`` as the ASGI server decoded it (some decode bytes that are
    not UTF-8 to lone surrogates)."""
    sent: list[dict[str, Any]] = []
    body = [{"type": "http.request", "body": b'{"context": {"targetingKey": "u"}}'}]

    async def receive() -> dict[str, Any]:
        return body.pop(0) if body else {"type": "http.disconnect"}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    scope = {"type": "http", "method": "POST", "path": path, "headers": headers}
    asyncio.run(app(scope, receive, send))  # type: ignore[arg-type]
    return sent[0]["status"], sent[1]["body"]


def test_a_flag_key_that_is_not_unicode_text_is_a_404_not_a_500(app: OfrepApp) -> None:
    status, body = _raw(app, BULK + "/\udcff", [(b"authorization", f"Bearer {TOKEN}".encode())])
    assert status == 404
    assert json.loads(body)["key"] == "\udcff"


def test_a_token_with_a_trailing_nul_is_refused(app: OfrepApp) -> None:
    status, _ = _raw(app, BULK, [(b"authorization", f"Bearer {TOKEN}".encode() + b"\0")])
    assert status == 401
