"""Shared by the OFREP tests (tests/core/ofrep): flags, tokens, a request helper that
needs no server, and a real server on a free loopback port."""

from __future__ import annotations

import asyncio
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

import httpx
import uvicorn

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


@contextmanager
def served(app: OfrepApp) -> Iterator[str]:
    """``app`` served by uvicorn on a free 127.0.0.1 port in a thread: its base URL."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)  # no 40 ms Nagle waits
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="on"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    while not server.started:
        if not thread.is_alive():
            raise RuntimeError("uvicorn did not start")
        time.sleep(0.01)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        sock.close()
