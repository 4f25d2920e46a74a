"""CORS: a browser page on another origin calling the OFREP endpoint (preflights,
the headers that let a script read answers and the ETag, the policy's options)."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from ofrep_http import TOKEN, call, served

from flagport import ConfigurationError, Flagport
from flagport.ofrep import OfrepApp, ofrep_app
from flagport.ofrep.cors import cors_policy

FLAG = "/ofrep/v1/evaluate/flags/"
BULK = "/ofrep/v1/evaluate/flags"
US = {"context": {"targetingKey": "u1", "country": "US"}}
APP_ORIGIN = "https://app.example.com"
OTHER_ORIGIN = "https://evil.example.net"
#: What a browser sends before the OFREP web provider's bulk request.
PREFLIGHT = {
    "Access-Control-Request-Method": "POST",
    "Access-Control-Request-Headers": "authorization,content-type,if-none-match",
}


@pytest.fixture
def cors_app(fp: Flagport) -> OfrepApp:
    return ofrep_app(fp, tokens=[TOKEN], cors_origins=[APP_ORIGIN, "http://localhost:5173"])


def preflight(app: OfrepApp, origin: str | None, path: str = BULK, **extra: str) -> httpx.Response:
    headers = {**PREFLIGHT, **extra}
    if origin is not None:
        headers["Origin"] = origin
    return call(app, path, method="OPTIONS", token=None, headers=headers)


def _vary(response: httpx.Response) -> list[str]:
    return [v.strip().lower() for v in response.headers.get("vary", "").split(",") if v]


# -- preflights ----------------------------------------------------------------------------
@pytest.mark.parametrize("path", [BULK, FLAG + "new_checkout"])
def test_a_preflight_from_a_listed_origin_is_allowed_without_a_token(
    cors_app: OfrepApp, path: str
) -> None:
    response = preflight(cors_app, APP_ORIGIN, path)
    assert response.status_code == 204
    assert response.content == b""
    assert "content-length" not in response.headers
    assert response.headers["access-control-allow-origin"] == APP_ORIGIN
    assert _vary(response) == ["origin"]
    assert response.headers["access-control-allow-methods"] == "POST"
    allowed = response.headers["access-control-allow-headers"].split(", ")
    # Authorization named: the Fetch standard's wildcard never covers it.
    assert set(allowed) == {"authorization", "content-type", "if-none-match", "x-api-key", "*"}
    assert response.headers["access-control-max-age"] == "7200"
    assert "access-control-allow-credentials" not in response.headers  # tokens, no cookies


@pytest.mark.parametrize("origin", [OTHER_ORIGIN, "https://app.example.com.evil.net", "null"])
def test_a_preflight_from_another_origin_is_refused(cors_app: OfrepApp, origin: str) -> None:
    response = preflight(cors_app, origin)
    assert response.status_code == 403
    assert "access-control-allow-origin" not in response.headers
    assert "access-control-allow-methods" not in response.headers
    assert _vary(response) == ["origin"]
    details = response.json()["errorDetails"]
    assert f"pages from the origin {origin!r} may not call" in details
    assert "cors_origins" in details


def test_a_preflight_is_answered_whatever_it_asks_and_the_browser_judges(
    cors_app: OfrepApp,
) -> None:
    # A front-end's own header (the web provider's ``headers`` option) is covered by "*".
    response = preflight(
        cors_app, APP_ORIGIN, **{"Access-Control-Request-Headers": "x-tenant, authorization"}
    )
    assert response.status_code == 204
    assert response.headers["access-control-allow-headers"].endswith(", *")
    put = preflight(cors_app, APP_ORIGIN, **{"Access-Control-Request-Method": "PUT"})
    assert put.headers["access-control-allow-methods"] == "POST"


def test_any_origin(fp: Flagport) -> None:
    app = ofrep_app(fp, tokens=[TOKEN], cors_origins=["*"], cors_max_age=60)
    response = preflight(app, OTHER_ORIGIN)
    assert response.status_code == 204
    assert response.headers["access-control-allow-origin"] == "*"
    assert response.headers["access-control-max-age"] == "60"
    assert "vary" not in response.headers  # the same answer for every origin
    bulk = call(app, BULK, US, headers={"Origin": OTHER_ORIGIN})
    assert bulk.headers["access-control-allow-origin"] == "*"
    assert bulk.headers["access-control-expose-headers"] == "ETag"


def test_without_cors_origins_there_is_no_cors(app: OfrepApp) -> None:
    response = preflight(app, APP_ORIGIN)
    assert response.status_code == 405
    bulk = call(app, BULK, US, headers={"Origin": APP_ORIGIN})
    assert bulk.status_code == 200
    assert not [name for name in bulk.headers if name.startswith("access-control-")]
    assert "vary" not in bulk.headers


def test_a_plain_options_request_is_not_a_preflight(cors_app: OfrepApp) -> None:
    response = call(cors_app, BULK, method="OPTIONS", token=None, headers={"Origin": APP_ORIGIN})
    assert response.status_code == 405
    assert response.headers["access-control-allow-origin"] == APP_ORIGIN


def test_a_preflight_under_a_mount_prefix(cors_app: OfrepApp) -> None:
    sent: list[Any] = []
    scope = {
        "type": "http",
        "method": "OPTIONS",
        "root_path": "/flags",
        "path": "/flags" + BULK,
        "headers": [(b"origin", APP_ORIGIN.encode()), (b"access-control-request-method", b"POST")],
    }

    async def receive() -> Any:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: Any) -> None:
        sent.append(message)

    asyncio.run(cors_app(scope, receive, send))
    assert sent[0]["status"] == 204
    assert (b"access-control-allow-origin", APP_ORIGIN.encode()) in sent[0]["headers"]


# -- actual requests -----------------------------------------------------------------------
def test_an_answer_names_a_listed_origin_and_exposes_the_etag(cors_app: OfrepApp) -> None:
    response = call(cors_app, BULK, US, headers={"Origin": "http://localhost:5173"})
    assert response.status_code == 200
    assert response.headers["access-control-allow-origin"] == "http://localhost:5173"
    assert response.headers["access-control-expose-headers"] == "ETag"
    assert _vary(response) == ["origin"]
    assert response.headers["etag"]


@pytest.mark.parametrize("headers", [{"Origin": OTHER_ORIGIN}, {}])
def test_an_answer_to_another_or_no_origin_names_none_and_varies(
    cors_app: OfrepApp, headers: dict[str, str]
) -> None:
    response = call(cors_app, BULK, US, headers=headers)
    assert response.status_code == 200  # the browser, not the server, withholds it
    assert "access-control-allow-origin" not in response.headers
    assert _vary(response) == ["origin"]  # so no cache serves it to a listed origin


def test_a_304_carries_the_cors_headers(cors_app: OfrepApp) -> None:
    etag = call(cors_app, BULK, US).headers["etag"]
    response = call(cors_app, BULK, US, headers={"Origin": APP_ORIGIN, "If-None-Match": etag})
    assert response.status_code == 304
    assert response.headers["access-control-allow-origin"] == APP_ORIGIN
    assert response.headers["etag"] == etag


@pytest.mark.parametrize(
    ("path", "kwargs", "status"),
    [
        (BULK, {"token": None}, 401),
        (BULK, {"token": "wrong-token-0123456789abcdef"}, 401),
        (BULK, {"content": b"{oops"}, 400),
        (FLAG + "new_checkout", {"content": b'{"context": {"email": true}}'}, 400),
        (FLAG + "nope", {}, 404),
        ("/nowhere", {}, 404),
        (BULK, {"method": "GET"}, 405),
        (BULK, {"content": b"x" * 70_000}, 413),
    ],
)
def test_error_answers_carry_the_cors_headers(
    cors_app: OfrepApp, path: str, kwargs: dict[str, Any], status: int
) -> None:
    response = call(cors_app, path, US, headers={"Origin": APP_ORIGIN}, **kwargs)
    assert response.status_code == status
    assert response.headers["access-control-allow-origin"] == APP_ORIGIN
    assert response.headers["access-control-expose-headers"] == "ETag"
    assert response.json()["errorDetails"]


def test_a_500_carries_the_cors_headers(tmp_path: Any) -> None:
    bad = tmp_path / "flags.yaml"
    bad.write_text("gates: [not, a, mapping]\n")
    with Flagport(provider="local", path=str(bad)) as broken:
        app = ofrep_app(broken, tokens=None, cors_origins=[APP_ORIGIN])
        response = call(app, BULK, US, headers={"Origin": APP_ORIGIN})
    assert response.status_code == 500
    assert response.headers["access-control-allow-origin"] == APP_ORIGIN


LISTED = (APP_ORIGIN, "http://localhost:5173")
_POLICY = cors_policy(LISTED, 600)
_near_listed = st.sampled_from(LISTED).flatmap(
    lambda origin: st.sampled_from(
        [origin, origin + "/", origin + ".evil.net", origin.upper(), origin[:-1], " " + origin]
    )
)


@settings(max_examples=300)
@given(origin=st.one_of(st.binary(max_size=60), _near_listed.map(str.encode)))
def test_no_origin_but_a_listed_one_is_ever_named(origin: bytes) -> None:
    assert _POLICY is not None
    headers = dict(_POLICY.response_headers(origin))
    named = headers.get(b"access-control-allow-origin")
    if origin.decode("latin-1") in LISTED:
        assert named == origin
    else:
        assert named is None
    assert headers[b"vary"] == b"Origin"
    assert _POLICY.allows(origin) is (named is not None)


# -- options -------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("options", "says"),
    [
        ({"cors_origins": APP_ORIGIN}, "a list of origins, not one string"),
        ({"cors_origins": []}, "would let no page read an answer"),
        ({"cors_origins": ["*", APP_ORIGIN]}, "'\\*' with other origins"),
        ({"cors_origins": [APP_ORIGIN, 7]}, "cors_origins #2 must be a str, got int"),
        ({"cors_origins": ["null"]}, "origin of sandboxed frames"),
        ({"cors_origins": ["https://*.example.com"]}, "is a pattern; list each origin"),
        ({"cors_origins": ["https://app.example.com/"]}, "has a path \\(a trailing '/' counts"),
        ({"cors_origins": ["https://app.example.com/ui"]}, "has a path"),
        ({"cors_origins": ["app.example.com"]}, "has no scheme or no host"),
        ({"cors_origins": ["https://App.Example.com"]}, "lower case: 'https://app.example.com'"),
        ({"cors_origins": ["https://app.example.com:443"]}, "default port 443"),
        ({"cors_origins": ["http://localhost:80"]}, "default port 80"),
        ({"cors_origins": ["https://user@app.example.com"]}, "user name or password"),
        ({"cors_origins": ["https://app.example.com:99999"]}, "is not a URL"),
        ({"cors_origins": ["https://bücher.example"]}, "punycode"),
        ({"cors_origins": ["https://app.example.com "]}, "printable ASCII"),
        ({"cors_origins": ["*"], "cors_max_age": -1}, "between 0 and 86400"),
        ({"cors_origins": ["*"], "cors_max_age": 90_000}, "between 0 and 86400"),
        ({"cors_origins": ["*"], "cors_max_age": True}, "must be an int of seconds"),
        ({"cors_origins": ["*"], "cors_max_age": "600"}, "must be an int of seconds"),
    ],
)
def test_unusable_cors_options_are_refused_at_construction(
    fp: Flagport, options: dict[str, Any], says: str
) -> None:
    with pytest.raises(ConfigurationError, match=says):
        ofrep_app(fp, tokens=None, **options)


@pytest.mark.parametrize(
    "origin",
    [
        "https://app.example.com",
        "http://localhost:5173",
        "http://[::1]:8080",
        "capacitor://localhost",
    ],
)
def test_origins_as_browsers_send_them_are_accepted(fp: Flagport, origin: str) -> None:
    app = ofrep_app(fp, tokens=None, cors_origins=[origin])
    assert preflight(app, origin).headers["access-control-allow-origin"] == origin


# -- over a real server --------------------------------------------------------------------
def test_a_browser_exchange_over_uvicorn(cors_app: OfrepApp) -> None:
    """What a page's fetch() does: the preflight, the bulk request, the revalidation."""
    with served(cors_app) as base, httpx.Client(base_url=base) as http:
        allowed = http.options(BULK, headers={"Origin": APP_ORIGIN, **PREFLIGHT})
        assert allowed.status_code == 204
        assert allowed.headers["access-control-allow-origin"] == APP_ORIGIN
        assert "if-none-match" in allowed.headers["access-control-allow-headers"]
        refused = http.options(BULK, headers={"Origin": OTHER_ORIGIN, **PREFLIGHT})
        assert refused.status_code == 403
        assert "access-control-allow-origin" not in refused.headers
        sent = {
            "Origin": APP_ORIGIN,
            "Authorization": f"Bearer {TOKEN}",
            "Content-Type": "application/json; charset=utf-8",
        }
        first = http.post(BULK, json=US, headers=sent)
        assert first.status_code == 200
        assert first.headers["access-control-allow-origin"] == APP_ORIGIN
        assert first.headers["access-control-expose-headers"] == "ETag"
        again = http.post(BULK, json=US, headers={**sent, "If-None-Match": first.headers["etag"]})
        assert again.status_code == 304
        assert again.headers["access-control-allow-origin"] == APP_ORIGIN
