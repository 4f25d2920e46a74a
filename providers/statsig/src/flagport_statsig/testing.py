"""Test helpers: a loopback Statsig server and a builder for config specs.

:class:`StatsigLoopbackServer` speaks the two endpoints the server SDK uses, on
127.0.0.1 with a free port, in-process: the definitions download
(``GET <specs_url>/<server_secret>.json``, answering ``{"has_updates": false}`` when
the SDK already has the current ``time``) and event logging (``POST <log_event_url>``,
gzip JSON ``{"events": [...]}``, answered ``202 {"success": true}``). Given ID lists, it
also serves Statsig's ID-list protocol (:class:`IdLists`). It records every event and
lets a test push new definitions::

    with StatsigLoopbackServer(SpecsBuilder().gate("g", [rule()]).build()) as server:
        fp = Flagport(provider="statsig", **server.provider_options())
        ...
        server.push_specs(new_specs)          # picked up at the next poll (~1 s)
        server.wait_for_events(lambda evs: any(e["eventName"] == "purchase" for e in evs))

:class:`SpecsBuilder` writes Statsig's config-specs JSON (the ``dcs-v2`` format the
SDK downloads; it is Statsig's internal format, used here as the SDK accepts it).
"""

from __future__ import annotations

import gzip
import hashlib
import json
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Self
from urllib.parse import parse_qs, urlparse

from flagport_statsig.testing_id_lists import ID_LIST_FILES, IdLists

__all__ = [
    "IdLists",
    "SpecsBuilder",
    "StatsigLoopbackServer",
    "bucket_lt",
    "public",
    "rule",
    "scenario_specs",
    "unit_id",
    "user_field",
]

DEFAULT_SECRET = "secret-flagport-loopback"


# -- config specs -------------------------------------------------------------------------
def public() -> dict[str, Any]:
    """A condition every user passes."""
    return {"type": "public", "targetValue": None, "operator": None, "field": None,
            "additionalValues": {}, "idType": "userID"}  # fmt: skip


def user_field(field: str, operator: str, target: Any, id_type: str = "userID") -> dict[str, Any]:
    """A condition on a user field: a built-in (``country``, ``email``…), a custom or a
    private attribute. ``operator`` is Statsig's (``any``, ``none``, ``eq``, ``gt``,
    ``version_gte``, ``str_contains_any``…)."""
    return {"type": "user_field", "targetValue": target, "operator": operator, "field": field,
            "additionalValues": {}, "idType": id_type}  # fmt: skip


def unit_id(id_type: str, operator: str, target: Any) -> dict[str, Any]:
    """A condition on the unit id itself (``user_id``, or a ``custom_ids`` key)."""
    return {"type": "unit_id", "targetValue": target, "operator": operator, "field": None,
            "additionalValues": {}, "idType": id_type}  # fmt: skip


def bucket_lt(salt: str, bucket: int, id_type: str = "userID") -> dict[str, Any]:
    """Users whose bucket (0-999, hashed from ``salt`` and the unit id) is below ``bucket``."""
    return {"type": "user_bucket", "targetValue": bucket, "operator": "lt", "field": None,
            "additionalValues": {"salt": salt}, "idType": id_type}  # fmt: skip


def rule(
    rule_id: str = "everyone",
    conditions: Sequence[Mapping[str, Any]] = (),
    *,
    pass_percentage: float = 100,
    value: Any = True,
    id_type: str = "userID",
) -> dict[str, Any]:
    """A rule: when every condition holds, ``pass_percentage`` % of units get ``value``."""
    return {
        "name": rule_id,
        "id": rule_id,
        "salt": rule_id,
        "passPercentage": pass_percentage,
        "conditions": [dict(c) for c in conditions] or [public()],
        "returnValue": value,
        "idType": id_type,
    }


class SpecsBuilder:
    """Build a Statsig config-specs document (gates, experiments, dynamic configs).

    Conditions are given inline; :meth:`build` moves them into the ``condition_map``
    the format references them from.
    """

    def __init__(self, time_ms: int = 1_700_000_000_000) -> None:
        self.time_ms = time_ms
        self._gates: dict[str, dict[str, Any]] = {}
        self._configs: dict[str, dict[str, Any]] = {}

    def gate(
        self,
        name: str,
        rules: Sequence[Mapping[str, Any]] = (),
        *,
        enabled: bool = True,
        id_type: str = "userID",
    ) -> Self:
        """Add a gate: the first rule whose conditions hold decides; otherwise off."""
        self._gates[name] = {
            "type": "feature_gate", "entity": "feature_gate", "salt": f"{name}_salt",
            "enabled": enabled, "defaultValue": False, "idType": id_type,
            "rules": [dict(r) for r in rules],
        }  # fmt: skip
        return self

    def config(
        self,
        name: str,
        default: Mapping[str, Any],
        rules: Sequence[Mapping[str, Any]] = (),
        *,
        id_type: str = "userID",
    ) -> Self:
        """Add a dynamic config: the first matching rule's value, else ``default``."""
        self._configs[name] = {
            "type": "dynamic_config", "entity": "dynamic_config", "salt": f"{name}_salt",
            "enabled": True, "defaultValue": dict(default), "idType": id_type,
            "rules": [dict(r) for r in rules],
        }  # fmt: skip
        return self

    def experiment(
        self,
        name: str,
        groups: Sequence[tuple[str, Mapping[str, Any]]],
        *,
        weights: Sequence[float] | None = None,
        default: Mapping[str, Any] | None = None,
        active: bool = True,
        id_type: str = "userID",
    ) -> Self:
        """Add an experiment splitting every unit between ``groups`` (name, parameters).

        :param weights: relative weights (equal when omitted).
        """
        weights = list(weights) if weights is not None else [1.0] * len(groups)
        if len(weights) != len(groups) or not groups:
            raise ValueError("give one weight per group, and at least one group")
        salt, total, upper, rules = f"{name}_salt", sum(weights), 0.0, []
        for i, ((group, params), weight) in enumerate(zip(groups, weights, strict=True)):
            upper += weight
            bound = 1000 if i == len(groups) - 1 else round(1000 * upper / total)
            r = rule(f"{name}.{group}", [bucket_lt(salt, bound, id_type)], value=dict(params),
                     id_type=id_type)  # fmt: skip
            r.update(groupName=group, isExperimentGroup=True)
            rules.append(r)
        self._configs[name] = {
            "type": "dynamic_config", "entity": "experiment", "salt": salt, "enabled": True,
            "isActive": active, "hasSharedParams": False,
            "defaultValue": dict(default if default is not None else groups[0][1]),
            "idType": id_type, "rules": rules,
        }  # fmt: skip
        return self

    def build(self, time_ms: int | None = None) -> dict[str, Any]:
        """The config-specs document, with conditions moved into ``condition_map``."""
        condition_map: dict[str, dict[str, Any]] = {}

        def hoist(specs: dict[str, dict[str, Any]]) -> dict[str, Any]:
            out: dict[str, Any] = {}
            for name, spec in specs.items():
                spec = json.loads(json.dumps(spec))
                for r in spec["rules"]:
                    ids = []
                    for condition in r["conditions"]:
                        text = json.dumps(condition, sort_keys=True)
                        cid = "c_" + hashlib.sha256(text.encode()).hexdigest()[:16]
                        condition_map[cid] = condition
                        ids.append(cid)
                    r["conditions"] = ids
                out[name] = spec
            return out

        return {
            "has_updates": True,
            "time": self.time_ms if time_ms is None else time_ms,
            "response_format": "dcs-v2",
            "company_id": "flagport-local",
            "feature_gates": hoist(self._gates),
            "dynamic_configs": hoist(self._configs),
            "layer_configs": {},
            "experiment_to_layer": {},
            "condition_map": condition_map,
            "diagnostics": None,
        }


# -- the loopback server -------------------------------------------------------------------
class StatsigLoopbackServer:
    """Statsig's definitions and event endpoints on 127.0.0.1, for tests.

    :param specs: the config specs served (see :class:`SpecsBuilder`).
    :param server_secret: the key the SDK must present (others get 401).
    :param port: 0 for a free port; :meth:`stop` then :meth:`start` reuse the port, so a
        test can take the server down and bring it back.
    :param id_lists: ID lists by name (plain ids); given, the server speaks Statsig's
        ID-list protocol and :meth:`provider_options` turns ID lists on.
    """

    def __init__(
        self,
        specs: Mapping[str, Any] | None = None,
        *,
        id_lists: Mapping[str, Sequence[str]] | None = None,
        server_secret: str = DEFAULT_SECRET,
        host: str = "127.0.0.1",
        port: int = 0,
    ) -> None:
        self.server_secret = server_secret
        self.host = host
        self.port = port
        self._lock = threading.Lock()
        self._specs: dict[str, Any] = dict(specs) if specs is not None else SpecsBuilder().build()
        self._events: list[dict[str, Any]] = []
        self.id_lists = IdLists(self._lock)
        self._serves_id_lists = id_lists is not None
        for name, ids in (id_lists or {}).items():
            self.id_lists.replace(name, ids)
        self.requests: list[tuple[str, str, dict[str, Any]]] = []
        self.fail_status: int | None = None
        self._httpd: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # -- lifecycle ---------------------------------------------------------------------------
    def start(self) -> Self:
        """Start serving (on the same port as before after a :meth:`stop`)."""
        if self._httpd is not None:
            return self
        httpd = ThreadingHTTPServer((self.host, self.port), _handler(self))
        httpd.daemon_threads = True
        self.port = httpd.server_address[1]
        self._httpd = httpd
        self._thread = threading.Thread(
            target=httpd.serve_forever,
            kwargs={"poll_interval": 0.05},
            name="statsig-loopback",
            daemon=True,
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving and close the socket (connections are then refused)."""
        httpd, self._httpd = self._httpd, None
        if httpd is not None:
            httpd.shutdown()
            httpd.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- addresses ---------------------------------------------------------------------------
    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def specs_url(self) -> str:
        return f"{self.url}/v2/download_config_specs"

    @property
    def log_event_url(self) -> str:
        return f"{self.url}/v1/log_event"

    @property
    def id_lists_url(self) -> str:
        """The ID-list lookup (Statsig's ``get_id_lists``), POSTed by the SDK."""
        return f"{self.url}/v1/get_id_lists"

    def provider_options(self, **overrides: Any) -> dict[str, Any]:
        """Options pointing a statsig provider here, polling and flushing every second."""
        options: dict[str, Any] = {
            "server_secret": self.server_secret,
            "specs_url": self.specs_url,
            "log_event_url": self.log_event_url,
            "specs_sync_interval_ms": 1000,
            "event_flush_interval_ms": 1000,
            "init_timeout_ms": 3000,
        }
        if self._serves_id_lists:
            options.update(enable_id_lists=True, id_lists_url=self.id_lists_url)
        options.update(overrides)
        return options

    # -- definitions -------------------------------------------------------------------------
    @property
    def specs(self) -> dict[str, Any]:
        with self._lock:
            return self._specs

    def push_specs(self, specs: Mapping[str, Any]) -> None:
        """Serve new definitions; their ``time`` is raised above the current one if
        needed, so polling SDKs download them."""
        new = dict(specs)
        with self._lock:
            new["time"] = max(int(new.get("time", 0)), int(self._specs.get("time", 0)) + 1)
            self._specs = new

    # -- events ------------------------------------------------------------------------------
    @property
    def events(self) -> list[dict[str, Any]]:
        """Every event received so far (a copy), SDK-internal ones included."""
        with self._lock:
            return list(self._events)

    def custom_events(self, name: str | None = None) -> list[dict[str, Any]]:
        """Events the application logged (not ``statsig::`` internals)."""
        return [
            e for e in self.events
            if not e.get("eventName", "").startswith("statsig::")
            and (name is None or e.get("eventName") == name)
        ]  # fmt: skip

    def exposures(self, flag: str | None = None) -> list[dict[str, Any]]:
        """Gate and config/experiment exposures, optionally for one flag."""
        found = []
        for e in self.events:
            if e.get("eventName") not in ("statsig::gate_exposure", "statsig::config_exposure"):
                continue
            meta = e.get("metadata") or {}
            if flag is None or flag in (meta.get("gate"), meta.get("config")):
                found.append(e)
        return found

    def wait_for_events(
        self, predicate: Callable[[list[dict[str, Any]]], bool], timeout: float = 10.0
    ) -> list[dict[str, Any]]:
        """Wait until ``predicate(events)`` holds; return the events (even on timeout)."""
        deadline = time.monotonic() + timeout
        while True:
            events = self.events
            if predicate(events) or time.monotonic() >= deadline:
                return events
            time.sleep(0.05)

    def clear_events(self) -> None:
        with self._lock:
            self._events.clear()

    def _record(self, method: str, path: str, headers: dict[str, Any]) -> None:
        with self._lock:
            self.requests.append((method, path, headers))

    def _add_events(self, events: list[dict[str, Any]]) -> None:
        with self._lock:
            self._events.extend(events)


def _handler(server: StatsigLoopbackServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: Any) -> None:
            return None

        def _reply(self, status: int, body: Any) -> None:
            data = json.dumps(body).encode()
            try:
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)
            except (BrokenPipeError, ConnectionResetError):
                pass  # the SDK gave up on this request (shutdown, timeout)

        def _refused(self) -> bool:
            if server.fail_status is not None:
                self._reply(server.fail_status, {"error": "loopback failure mode"})
                return True
            if self.headers.get("statsig-api-key") != server.server_secret:
                self._reply(401, {"error": "invalid server secret"})
                return True
            return False

        def do_GET(self) -> None:
            url = urlparse(self.path)
            server._record("GET", self.path, dict(self.headers))
            if url.path.startswith(ID_LIST_FILES):
                # A list file sits at an unguessable URL (a CDN's), without the key.
                self._id_list_file(url.path[len(ID_LIST_FILES) :])
                return
            if self._refused():
                return
            if url.path != f"{urlparse(server.specs_url).path}/{server.server_secret}.json":
                self._reply(404, {"error": "not found"})
                return
            since = parse_qs(url.query).get("sinceTime", ["0"])[0]
            specs = server.specs
            if since.isdigit() and int(since) >= int(specs.get("time", 0)):
                self._reply(200, {"has_updates": False})
            else:
                self._reply(200, specs)

        def _id_list_file(self, file_id: str) -> None:
            found = server.id_lists.file(file_id)
            if found is None:
                self._reply(404, {"error": "no such ID list file"})
                return
            start = 0
            wanted = self.headers.get("Range", "")
            if wanted.startswith("bytes=") and wanted[6:].rstrip("-").isdigit():
                start = int(wanted[6:].rstrip("-"))
            data = found[start:]
            try:
                self.send_response(206 if start else 200)
                self.send_header("Content-Type", "text/plain")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)
            except (BrokenPipeError, ConnectionResetError):
                pass

        def do_POST(self) -> None:
            url = urlparse(self.path)
            raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            server._record("POST", self.path, dict(self.headers))
            if self._refused():
                return
            if server._serves_id_lists and url.path == urlparse(server.id_lists_url).path:
                self._reply(200, server.id_lists.manifest(f"{server.url}{ID_LIST_FILES}"))
                return
            if url.path != urlparse(server.log_event_url).path:
                self._reply(404, {"error": "not found"})
                return
            if self.headers.get("Content-Encoding", "") == "gzip":
                raw = gzip.decompress(raw)
            try:
                payload = json.loads(raw)
            except ValueError:
                self._reply(400, {"success": False})
                return
            server._add_events(list(payload.get("events") or []))
            self._reply(202, {"success": True})

    return Handler


def scenario_specs(time_ms: int = 1_700_000_000_000) -> dict[str, Any]:
    """flagport's common product scenario in Statsig's format.

    * gate ``new_checkout``: on for ``country == "US"``, and for 50 % of everyone else;
    * experiment ``button_color``: ``control`` / ``blue`` / ``green``, a third each,
      parameter ``{"color": ...}`` (gray for control);
    * config ``pricing``: ``{"discount": 0.1}`` for ``plan == "pro"``, else ``{"discount": 0}``;
    * the custom event ``purchase`` needs no definition in Statsig.
    """
    return (
        SpecsBuilder(time_ms)
        .gate(
            "new_checkout",
            [
                rule("us", [user_field("country", "any", ["US"])]),
                rule("rollout", pass_percentage=50),
            ],
        )
        .experiment(
            "button_color",
            [
                ("control", {"color": "gray"}),
                ("blue", {"color": "blue"}),
                ("green", {"color": "green"}),
            ],
        )
        .config(
            "pricing",
            {"discount": 0},
            [rule("pro", [user_field("plan", "any", ["pro"])], value={"discount": 0.1})],
        )
        .build()
    )
