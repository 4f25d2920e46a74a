"""OFREP bulk evaluation latency: 200 flags for one context.

Rows, each the latency of one bulk request (``POST /ofrep/v1/evaluate/flags``) with
its p50 and p99 over ``--requests`` calls:

* ``evaluate_all`` alone: the plain Python call the endpoint is built on (no JSON, no
  HTTP), the floor;
* in-process ASGI: the application called directly with an ASGI request (body parsing,
  token check, evaluation, JSON, ETag), as a framework that mounts it pays;
* in-process ASGI, 304: the same with ``If-None-Match`` matching (still evaluated:
  the tag is the answer's hash, per context);
* in-process ASGI, CORS: the same as in-process ASGI from a browser page on a listed
  origin (``cors_origins``), whose answer carries the CORS headers;
* uvicorn over 127.0.0.1: a real server in this process's thread, an ``httpx`` client
  with a kept-alive connection (adds the HTTP stack and the loopback).

Goal (issue 18 §3): a bulk evaluation of 200 flags for one context answers in under
2 ms at the 99th percentile. The flags are 120 gates (a targeting rule and a
percentage rollout), 40 experiments of three groups, 40 configs with a targeting rule.

Run: ``uv run python benchmarks/bench_ofrep.py`` (``--requests N``, default 2000).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import socket
import statistics
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import uvicorn

from flagport import Flagport
from flagport.ofrep import OfrepApp, ofrep_app

TOKEN = "bench-token-0123456789abcdef"
CONTEXT = {"targetingKey": "user-42", "country": "US", "plan": "pro", "app_version": "2.3.1"}
BODY = json.dumps({"context": CONTEXT}).encode()
PATH = "/ofrep/v1/evaluate/flags"


def flags_document(gates: int = 120, experiments: int = 40, configs: int = 40) -> dict[str, Any]:
    """Definitions for ``gates + experiments + configs`` flags (200 by default)."""
    return {
        "gates": {
            f"gate_{i}": {
                "rules": [
                    {"id": "us", "when": {"country": "US", "plan": {"$in": ["pro", "team"]}}},
                    {"id": "rollout", "pass_percentage": i % 100},
                ]
            }
            for i in range(gates)
        },
        "experiments": {
            f"experiment_{i}": {
                "groups": [
                    {"name": "control", "weight": 34, "value": {"color": "gray", "size": i}},
                    {"name": "blue", "weight": 33, "value": {"color": "blue", "size": i}},
                    {"name": "green", "weight": 33, "value": {"color": "green", "size": i}},
                ]
            }
            for i in range(experiments)
        },
        "configs": {
            f"config_{i}": {
                "default": {"discount": 0, "currency": "USD"},
                "rules": [{"id": "pro", "when": {"plan": "pro"}, "value": {"discount": i / 100}}],
            }
            for i in range(configs)
        },
    }


def percentiles(samples: list[float]) -> tuple[float, float]:
    """(p50, p99) in milliseconds."""
    ordered = sorted(samples)
    p99 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]
    return statistics.median(ordered) * 1000, p99 * 1000


Samples = tuple[list[float], list[float]]


def time_calls(call: Callable[[], object], runs: int) -> Samples:
    """Wall and CPU (this thread's) seconds of each of ``runs`` calls."""
    for _ in range(min(200, runs)):  # warm-up
        call()
    wall: list[float] = []
    cpu: list[float] = []
    for _ in range(runs):
        start, start_cpu = time.perf_counter(), time.thread_time()
        call()
        cpu.append(time.thread_time() - start_cpu)
        wall.append(time.perf_counter() - start)
    return wall, cpu


def asgi_caller(app: OfrepApp, extra_headers: list[tuple[bytes, bytes]]) -> Callable[[], int]:
    """A function making one in-process ASGI bulk request; it returns the status."""
    loop = asyncio.new_event_loop()
    headers = [
        (b"authorization", f"Bearer {TOKEN}".encode()),
        (b"content-type", b"application/json"),
        (b"content-length", str(len(BODY)).encode()),
        *extra_headers,
    ]
    scope = {"type": "http", "method": "POST", "path": PATH, "headers": headers}

    async def one() -> int:
        messages = [{"type": "http.request", "body": BODY, "more_body": False}]
        sent: list[Any] = []

        async def receive() -> Any:
            return messages.pop()

        async def send(message: Any) -> None:
            sent.append(message)

        await app(scope, receive, send)
        return int(sent[0]["status"])

    return lambda: loop.run_until_complete(one())


def serve(app: OfrepApp) -> tuple[str, Callable[[], None]]:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)  # inherited by connections
    sock.bind(("127.0.0.1", 0))
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", access_log=False))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    while not server.started:
        time.sleep(0.01)

    def stop() -> None:
        server.should_exit = True
        thread.join(timeout=10)

    return f"http://127.0.0.1:{sock.getsockname()[1]}", stop


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=2000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "flags.json"
        path.write_text(json.dumps(flags_document()))
        with Flagport(provider="local", path=str(path)) as fp:
            app = ofrep_app(fp, tokens=[TOKEN])
            user = {
                "user_id": "user-42",
                **{k: v for k, v in CONTEXT.items() if k != "targetingKey"},
            }
            rows: list[tuple[str, Samples]] = []
            n_flags = len(fp.evaluate_all(user).to_dict()["gates"]) + 80
            rows.append(
                ("evaluate_all alone", time_calls(lambda: fp.evaluate_all(user), args.requests))
            )
            plain = asgi_caller(app, [])
            assert plain() == 200
            rows.append(("in-process ASGI", time_calls(plain, args.requests)))
            etag = _etag(app)
            cached = asgi_caller(app, [(b"if-none-match", etag)])
            assert cached() == 304
            rows.append(("in-process ASGI, 304", time_calls(cached, args.requests)))
            page = b"https://app.example.com"
            cors_app = ofrep_app(fp, tokens=[TOKEN], cors_origins=[page.decode()])
            from_page = asgi_caller(cors_app, [(b"origin", page)])
            assert from_page() == 200
            rows.append(("in-process ASGI, CORS", time_calls(from_page, args.requests)))
            base, stop = serve(app)
            try:
                # Without TCP_NODELAY the request's headers and body, written apart, wait
                # out the server's delayed acknowledgement (40 ms) on Linux.
                nodelay = [(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)]
                transport = httpx.HTTPTransport(socket_options=nodelay)
                auth = {"Authorization": f"Bearer {TOKEN}"}
                with httpx.Client(transport=transport, headers=auth) as http:

                    def over_http() -> None:
                        response = http.post(base + PATH, content=BODY)
                        assert response.status_code == 200

                    rows.append(("uvicorn over 127.0.0.1", time_calls(over_http, args.requests)))
            finally:
                stop()
    print(f"OFREP bulk evaluation of {n_flags} flags for one context, {args.requests} requests")
    print("wall: elapsed time; cpu: this thread's CPU time (for uvicorn, the client's only)")
    header = f"{'':24} {'wall p50':>9} {'wall p99':>9} {'cpu p50':>8} {'cpu p99':>8}"
    print(header + f" {'p50 vs evaluate_all':>20}")
    floor = percentiles(rows[0][1][0])[0]
    for label, (wall, cpu) in rows:
        p50, p99 = percentiles(wall)
        cpu50, cpu99 = percentiles(cpu)
        print(f"{label:24} {p50:9.3f} {p99:9.3f} {cpu50:8.3f} {cpu99:8.3f} {p50 / floor:19.2f}x")
    print("(milliseconds)")
    wall99, cpu99 = percentiles(rows[1][1][0])[1], percentiles(rows[1][1][1])[1]
    verdict = "met" if wall99 < 2.0 else "NOT met"
    print(f"goal: in-process p99 under 2 ms: {verdict} (wall {wall99:.3f} ms, cpu {cpu99:.3f} ms)")


def _etag(app: OfrepApp) -> bytes:
    loop = asyncio.new_event_loop()
    sent: list[Any] = []

    async def receive() -> Any:
        return {"type": "http.request", "body": BODY, "more_body": False}

    async def send(message: Any) -> None:
        sent.append(message)

    headers = [(b"authorization", f"Bearer {TOKEN}".encode())]
    scope = {"type": "http", "method": "POST", "path": PATH, "headers": headers}
    loop.run_until_complete(app(scope, receive, send))
    return dict(sent[0]["headers"])[b"etag"]


if __name__ == "__main__":
    main()
