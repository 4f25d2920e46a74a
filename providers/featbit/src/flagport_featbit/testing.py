"""A FeatBit evaluation server on 127.0.0.1, and builders for FeatBit flag JSON.

:class:`FeatBitLoopback` speaks the wire protocol FeatBit's server SDKs use, so tests
drive the real SDK end to end with no mock in between:

* **data sync**, a websocket at ``<streaming_url>/streaming?token=...&type=server``:
  the SDK sends ``{"messageType": "data-sync", "data": {"timestamp": <ms>}}``; the
  server answers with a ``full`` snapshot (timestamp 0) or a ``patch`` of everything
  newer, and later pushes ``patch`` messages when a test changes a flag. A wrong
  ``Authorization`` header is closed with code 4003, as FeatBit does.
* **insights**, ``POST <event_url>/api/public/insight/track`` with a JSON array of
  evaluation, metric and user records, which the server keeps for assertions.

Start and stop it in-process (ports are picked by the OS)::

    with FeatBitLoopback(scenario_flags()) as server:
        fp = Flagport(provider="featbit", **server.provider_options())
        ...
        server.update_flag("pricing", variations=[variation("v1", {"discount": 0.2})])
        assert server.wait_for(lambda: fp.get_config(user, "pricing").get("discount") == 0.2)

Needs the ``websockets`` package (``pip install 'flagport-featbit[testing]'``).
"""

from __future__ import annotations

import contextlib
import copy
import json
import threading
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import UTC, datetime
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any, Self

try:
    from websockets.sync.server import Server, ServerConnection, serve
except ImportError as exc:  # pragma: no cover - depends on the environment
    raise ImportError(
        "flagport_featbit.testing needs the 'websockets' package: "
        "pip install 'flagport-featbit[testing]'"
    ) from exc

__all__ = [
    "INSIGHT_PATH",
    "FeatBitLoopback",
    "condition",
    "data_sync",
    "in_segment",
    "make_flag",
    "rollout",
    "rule",
    "scenario_flags",
    "segment",
    "variation",
]

INSIGHT_PATH = "/api/public/insight/track"
_EPOCH_MS = 1_767_225_600_000  # 2026-01-01T00:00:00Z: a stable default updatedAt


def _iso(ms: int) -> str:
    return datetime.fromtimestamp(ms / 1000, UTC).isoformat(timespec="milliseconds")[:-6] + "Z"


# -- builders ------------------------------------------------------------------------------
def variation(vid: str, value: Any, name: str | None = None) -> dict[str, Any]:
    """A variation; ``value`` is a Python value, stored as FeatBit's string encoding."""
    text = value if isinstance(value, str) else json.dumps(value)
    return {"id": vid, "name": name or vid, "value": text}


def rollout(
    *shares: tuple[str, float], dispatch_key: str | None = None, in_experiment: bool = False
) -> dict[str, Any]:
    """A rollout over variations: ``rollout(("on", 0.5), ("off", 0.5))``.

    :param dispatch_key: the user property that buckets (default: the user key).
    :param in_experiment: FeatBit's ``includedInExpt``: this traffic is experiment traffic.
    """
    start, parts = 0.0, []
    for vid, share in shares:
        end = 1.0 if abs(start + share - 1.0) < 1e-9 else start + share
        parts.append({"id": vid, "rollout": [start, end], "exptRollout": 1})
        start = end
    return {"dispatchKey": dispatch_key, "includedInExpt": in_experiment, "variations": parts}


def condition(prop: str, op: str, value: Any) -> dict[str, Any]:
    """A rule condition (``op`` is FeatBit's: ``Equal``, ``IsOneOf``, ``BiggerThan``…)."""
    text = value if isinstance(value, str) else json.dumps(value)
    return {"property": prop, "op": op, "value": text}


def rule(
    rule_id: str, conditions: Sequence[Mapping[str, Any]], serve: Mapping[str, Any]
) -> dict[str, Any]:
    """A targeting rule: all ``conditions`` must match; ``serve`` is a :func:`rollout`."""
    return {"id": rule_id, "name": rule_id, "conditions": list(conditions), **serve}


def make_flag(
    key: str,
    variation_type: str,
    variations: Sequence[Mapping[str, Any]],
    *,
    fallthrough: Mapping[str, Any],
    rules: Sequence[Mapping[str, Any]] = (),
    enabled: bool = True,
    disabled_variation: str | None = None,
    targets: Mapping[str, Sequence[str]] | None = None,
    targets_in_experiment: bool = True,
    tags: Sequence[str] = (),
    updated_at: int = _EPOCH_MS,
) -> dict[str, Any]:
    """A complete FeatBit feature flag, as the data-sync message carries it.

    :param variation_type: ``boolean``, ``string``, ``number`` or ``json``.
    :param targets: user keys pinned to a variation, by variation id.
    :param updated_at: the version, in Unix milliseconds.
    """
    return {
        "id": f"id-{key}",
        "envId": "loopback-env",
        "key": key,
        "name": key,
        "variationType": variation_type,
        "variations": [dict(v) for v in variations],
        "targetUsers": [
            {"variationId": vid, "keyIds": list(keys)} for vid, keys in (targets or {}).items()
        ],
        "rules": [dict(r) for r in rules],
        "isEnabled": enabled,
        "disabledVariationId": disabled_variation or str(variations[-1]["id"]),
        "fallthrough": dict(fallthrough),
        "exptIncludeAllTargets": targets_in_experiment,
        "tags": list(tags),
        "isArchived": False,
        "createdAt": _iso(_EPOCH_MS),
        "updatedAt": _iso(updated_at),
    }


def segment(
    segment_id: str,
    *,
    included: Sequence[str] = (),
    excluded: Sequence[str] = (),
    rules: Sequence[Mapping[str, Any]] = (),
    updated_at: int = _EPOCH_MS,
) -> dict[str, Any]:
    """A FeatBit segment: user keys in or out, or users matching any of ``rules``
    (each ``{"conditions": [...]}``). Flags test it with :func:`in_segment`."""
    return {
        "id": segment_id,
        "envId": "loopback-env",
        "name": segment_id,
        "included": list(included),
        "excluded": list(excluded),
        "rules": [dict(r) for r in rules],
        "isArchived": False,
        "createdAt": _iso(_EPOCH_MS),
        "updatedAt": _iso(updated_at),
    }


def in_segment(*segment_ids: str) -> dict[str, Any]:
    """The rule condition "user is in one of these segments"."""
    return {"property": "User is in segment", "op": "", "value": json.dumps(list(segment_ids))}


def data_sync(
    flags: Iterable[Mapping[str, Any]],
    segments: Iterable[Mapping[str, Any]] = (),
    event_type: str = "full",
) -> dict[str, Any]:
    """The data-sync message: what the server sends and what ``bootstrap`` accepts."""
    return {
        "messageType": "data-sync",
        "data": {
            "eventType": event_type,
            "featureFlags": [copy.deepcopy(dict(f)) for f in flags],
            "segments": [copy.deepcopy(dict(s)) for s in segments],
        },
    }


def scenario_flags() -> list[dict[str, Any]]:
    """flagport's common product scenario in FeatBit's model.

    * ``new_checkout`` (boolean): on for ``country == "US"``, 50 % of everyone else;
    * ``button_color`` (json): control / blue / green, a third each, parameter
      ``{"color": ...}``, all traffic included in the experiment;
    * ``pricing`` (json): ``{"discount": 0.1}`` for ``plan == "pro"``, else
      ``{"discount": 0}``.

    FeatBit has no event definitions: the scenario's ``purchase`` event is a metric
    named ``purchase`` (see the README for how value and metadata are carried).
    """
    on_off = [variation("on", True), variation("off", False)]
    colors = [
        variation("v-control", {"color": "gray"}, "control"),
        variation("v-blue", {"color": "blue"}, "blue"),
        variation("v-green", {"color": "green"}, "green"),
    ]
    third = 1 / 3
    return [
        make_flag(
            "new_checkout",
            "boolean",
            on_off,
            rules=[rule("rule-us", [condition("country", "Equal", "US")], rollout(("on", 1.0)))],
            fallthrough=rollout(("on", 0.5), ("off", 0.5)),
            disabled_variation="off",
        ),
        make_flag(
            "button_color",
            "json",
            colors,
            fallthrough=rollout(
                ("v-control", third), ("v-blue", third), ("v-green", third), in_experiment=True
            ),
            disabled_variation="v-control",
        ),
        make_flag(
            "pricing",
            "json",
            [variation("pro", {"discount": 0.1}), variation("standard", {"discount": 0})],
            rules=[rule("rule-pro", [condition("plan", "Equal", "pro")], rollout(("pro", 1.0)))],
            fallthrough=rollout(("standard", 1.0)),
            disabled_variation="standard",
        ),
    ]


# -- the server ------------------------------------------------------------------------------
class FeatBitLoopback:
    """FeatBit's streaming and insight endpoints on 127.0.0.1, for tests.

    :param flags: the flags served (defaults to :func:`scenario_flags`).
    :param segments: the segments served.
    :param env_secret: the secret clients must send; others are closed with 4003.
    :param port: the websocket port (0: any free port); useful to bring a server up
        where a client is already trying to connect.
    :ivar available: set False to refuse websocket handshakes and insight posts (HTTP 503).
    """

    def __init__(
        self,
        flags: Iterable[Mapping[str, Any]] | None = None,
        segments: Iterable[Mapping[str, Any]] = (),
        *,
        env_secret: str = "loopback-env-secret",
        port: int = 0,
        event_port: int = 0,
        host: str = "127.0.0.1",
    ) -> None:
        self.env_secret = env_secret
        self.host = host
        self.available = True
        self._lock = threading.Condition()
        self._flags = {
            f["key"]: copy.deepcopy(dict(f))
            for f in (flags if flags is not None else scenario_flags())
        }
        self._segments = {s["id"]: copy.deepcopy(dict(s)) for s in segments}
        self._clock = max(
            [_EPOCH_MS]
            + [_ms(item["updatedAt"]) for item in [*self._flags.values(), *self._segments.values()]]
        )
        self._connections: list[ServerConnection] = []
        #: Every item of every insight POST, in arrival order.
        self.insights: list[dict[str, Any]] = []
        #: ``(path, headers)`` of every websocket handshake and HTTP request.
        self.requests: list[tuple[str, dict[str, str]]] = []
        #: Every message clients sent on the websocket.
        self.received: list[dict[str, Any]] = []
        self._ws: Server | None = None
        self._http: ThreadingHTTPServer | None = None
        self._ports = (port, event_port)
        self._threads: list[threading.Thread] = []

    # -- lifecycle ------------------------------------------------------------------------
    def start(self) -> Self:
        """Listen and serve on background threads."""
        self._ws = serve(
            self._handle,
            self.host,
            self._ports[0],
            process_request=self._handshake,
            close_timeout=0.5,
            ping_interval=None,
            compression=None,
        )
        self._http = ThreadingHTTPServer((self.host, self._ports[1]), _handler(self))
        self._http.daemon_threads = True
        self._ports = (self._ws.socket.getsockname()[1], self._http.server_address[1])
        for target, name in ((self._ws.serve_forever, "ws"), (self._http.serve_forever, "http")):
            thread = threading.Thread(target=target, name=f"featbit-loopback-{name}", daemon=True)
            thread.start()
            self._threads.append(thread)
        return self

    def stop(self) -> None:
        """Close every connection and stop listening (the instance can start again)."""
        ws, http = self._ws, self._http
        self._ws = self._http = None
        if ws is not None:
            ws.shutdown()
        if http is not None:
            http.shutdown()
            http.server_close()
        for thread in self._threads:
            thread.join(5)
        self._threads.clear()

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    @property
    def streaming_url(self) -> str:
        return f"ws://{self.host}:{self._ports[0]}"

    @property
    def event_url(self) -> str:
        return f"http://{self.host}:{self._ports[1]}"

    def provider_options(self, **extra: Any) -> dict[str, Any]:
        """Options pointing the ``featbit`` provider here, with quick test timings."""
        options: dict[str, Any] = {
            "env_secret": self.env_secret,
            "streaming_url": self.streaming_url,
            "event_url": self.event_url,
            "start_wait": 5.0,
            "events_flush_interval": 0.2,
            "streaming_first_retry_delay": 0.1,
            "connect_timeout": 2.0,
        }
        options.update(extra)
        return options

    # -- definitions ------------------------------------------------------------------------
    def _tick(self) -> int:
        self._clock = max(self._clock + 1, int(time.time() * 1000))
        return self._clock

    def bootstrap(self) -> dict[str, Any]:
        """The current definitions as a data-sync message (for offline ``bootstrap``)."""
        with self._lock:
            return data_sync(self._flags.values(), self._segments.values())

    def flag(self, key: str) -> dict[str, Any]:
        """A copy of the flag as currently served."""
        with self._lock:
            return copy.deepcopy(self._flags[key])

    def set_flag(self, flag: Mapping[str, Any]) -> None:
        """Add or replace a flag (with a newer version) and push it to connected SDKs."""
        with self._lock:
            item = copy.deepcopy(dict(flag))
            item["updatedAt"] = _iso(self._tick())
            self._flags[item["key"]] = item
            message = data_sync([item], event_type="patch")
        self._broadcast(message)

    def update_flag(self, key: str, **changes: Any) -> None:
        """Change fields of a served flag (``isEnabled=False``, ``variations=[...]``…)."""
        flag = self.flag(key)
        flag.update(changes)
        self.set_flag(flag)

    def archive_flag(self, key: str) -> None:
        """Delete a flag, as FeatBit does: push it archived."""
        self.update_flag(key, isArchived=True)

    def _broadcast(self, message: Mapping[str, Any]) -> None:
        text = json.dumps(message)
        for connection in list(self._connections):
            # A connection closing now gets the change on reconnect, as a patch.
            with contextlib.suppress(Exception):
                connection.send(text)

    def disconnect_all(self) -> None:
        """Close every websocket (code 1001): SDKs reconnect and ask for a patch."""
        for connection in list(self._connections):
            connection.close(1001, "loopback restart")

    @property
    def connections(self) -> int:
        """How many SDKs are connected to the websocket now."""
        return len(self._connections)

    # -- websocket ------------------------------------------------------------------------
    def _handshake(self, connection: ServerConnection, request: Any) -> Any:
        self.requests.append((request.path, dict(request.headers.raw_items())))
        if not self.available:
            return connection.respond(HTTPStatus.SERVICE_UNAVAILABLE, "loopback unavailable\n")
        if not request.path.startswith("/streaming"):
            return connection.respond(HTTPStatus.NOT_FOUND, "not found\n")
        return None

    def _handle(self, connection: ServerConnection) -> None:
        if (
            connection.request is None
            or connection.request.headers.get("Authorization") != self.env_secret
        ):
            connection.close(4003, "invalid request")
            return
        self._connections.append(connection)
        try:
            for raw in connection:
                message = json.loads(raw)
                with self._lock:
                    self.received.append(message)
                    self._lock.notify_all()
                if message.get("messageType") == "data-sync":
                    connection.send(json.dumps(self._sync_answer(message.get("data") or {})))
        except Exception:
            pass
        finally:
            if connection in self._connections:
                self._connections.remove(connection)

    def _sync_answer(self, data: Mapping[str, Any]) -> dict[str, Any]:
        since = int(data.get("timestamp") or 0)
        with self._lock:
            if since <= 0:
                return data_sync(self._flags.values(), self._segments.values())
            return data_sync(
                [f for f in self._flags.values() if _ms(f["updatedAt"]) > since],
                [s for s in self._segments.values() if _ms(s["updatedAt"]) > since],
                event_type="patch",
            )

    # -- insights ------------------------------------------------------------------------
    def _record(self, items: list[dict[str, Any]]) -> None:
        with self._lock:
            self.insights.extend(items)
            self._lock.notify_all()

    def metrics(self, name: str | None = None) -> list[dict[str, Any]]:
        """Every metric received, each with its ``user`` added, optionally by event name."""
        with self._lock:
            return [
                {**metric, "user": item["user"]}
                for item in self.insights
                for metric in item.get("metrics") or ()
                if name is None or metric.get("eventName") == name
            ]

    def evaluations(self, flag: str | None = None) -> list[dict[str, Any]]:
        """Every flag evaluation (exposure) received, each with its ``user``."""
        with self._lock:
            return [
                {**record, "user": item["user"]}
                for item in self.insights
                for record in item.get("variations") or ()
                if flag is None or record.get("featureFlagKey") == flag
            ]

    def wait_for(self, predicate: Callable[[], bool], timeout: float = 10.0) -> bool:
        """Poll ``predicate`` until it is true or ``timeout`` passes; return its last value."""
        deadline = time.monotonic() + timeout
        while True:
            if predicate():
                return True
            left = deadline - time.monotonic()
            if left <= 0:
                return False
            with self._lock:
                self._lock.wait(min(left, 0.02))


def _ms(stamp: str) -> int:
    return int(datetime.fromisoformat(stamp).timestamp() * 1000)


def _handler(server: FeatBitLoopback) -> type[BaseHTTPRequestHandler]:
    class InsightHandler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: Any) -> None:
            return None

        def _answer(self, status: HTTPStatus, body: bytes = b"{}") -> None:
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            server.requests.append((self.path, dict(self.headers)))
            if not server.available:
                self._answer(HTTPStatus.SERVICE_UNAVAILABLE)
            elif self.path != INSIGHT_PATH:
                self._answer(HTTPStatus.NOT_FOUND)
            elif self.headers.get("Authorization") != server.env_secret:
                self._answer(HTTPStatus.UNAUTHORIZED)
            else:
                server._record(json.loads(body))
                self._answer(HTTPStatus.OK)

        def do_GET(self) -> None:
            # FeatBit's polling endpoint: the same snapshot the websocket sends.
            server.requests.append((self.path, dict(self.headers)))
            if self.path.startswith("/api/public/sdk/server/latest-all"):
                self._answer(HTTPStatus.OK, json.dumps(server.bootstrap()).encode())
            else:
                self._answer(HTTPStatus.NOT_FOUND)

    return InsightHandler
