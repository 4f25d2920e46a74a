"""Shared by the OFREP tests (tests/core/ofrep) and its benchmark: flags, tokens, a
request helper that needs no server."""

from __future__ import annotations

import asyncio

import httpx

from flagport.ofrep import OfrepApp

FLAGS_YAML = """
gates:
  new_checkout:
    rules:
      - {id: us, when: {country: US}}
  staff:
    rules:
      - {id: staff, when: {email: {$regex: "@example[.]com$"}}}
experiments:
  button_color:
    groups:
      - {name: control, weight: 50, value: {color: gray}}
      - {name: blue, weight: 50, value: {color: blue}}
  company_seats:
    unit: company_id
    groups:
      - {name: control, weight: 100, value: {per_seat: 12}}
configs:
  pricing:
    default: {discount: 0, currency: USD}
    rules:
      - {id: pro, when: {plan: pro}, value: {discount: 0.1, currency: USD}}
"""

TOKEN = "test-token-0123456789abcdef"
OTHER_TOKEN = "other-token-0123456789abcdef"


def call(
    app: OfrepApp,
    path: str,
    body: object = None,
    *,
    method: str = "POST",
    token: str | None = TOKEN,
    headers: dict[str, str] | None = None,
    content: bytes | None = None,
) -> httpx.Response:
    """One request to ``app`` through httpx's ASGI transport (no server)."""
    sent = dict(headers or {})
    if token is not None:
        sent.setdefault("Authorization", f"Bearer {token}")

    async def go() -> httpx.Response:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://ofrep.test") as http:
            if content is not None:
                return await http.request(method, path, content=content, headers=sent)
            if body is None:
                return await http.request(method, path, headers=sent)
            return await http.request(method, path, json=body, headers=sent)

    return asyncio.run(go())
