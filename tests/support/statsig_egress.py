"""Which host names the Statsig SDK looks up when the server it is pointed at fails.

Run as a script in namespaces of its own (:func:`stalled_dns.isolated_command`): the
only name server is a silent one on 127.0.0.1 that records each query, so any host the
SDK tries to reach shows up by name and no packet leaves the machine. The provider's
URLs point at a loopback server that fails as ``SCENARIO`` says:

- ``timeout``: accepts connections and never answers (the start-up and every request
  time out: the SDK's own start-up timeout, which flagport's grace is taken off for
  here so that it fires at once, then its 10 s request timeout);
- ``refused``: nothing listens (every request fails at once);
- ``malformed``: answers every request ``200`` with a body that is not JSON (the SDK
  fails to parse the definitions: an error that is not the network's).

The script waits ``SECONDS``, flushes events, shuts the client down and prints, as
JSON: the names looked up, the hosts flagport kept the SDK from reaching, and every log
record (at DEBUG, the SDK's included) that holds the server secret.
"""

from __future__ import annotations

import json
import logging
import re
import socket
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from leak_watch import LeakWatch
from stalled_dns import query_name, silent_dns

SECRET = "secret-egress-canary-Jw4Tz9"
_KEPT = re.compile(r"kept the Statsig SDK from reaching (\w[^\s,]*)")


def _mute_listener() -> str:
    """A loopback HTTP address that accepts connections and never answers."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(16)
    held: list[object] = []

    def accept() -> None:
        while True:
            held.append(server.accept())

    threading.Thread(target=accept, name="mute-listener", daemon=True).start()
    return f"http://127.0.0.1:{server.getsockname()[1]}"


def _closed_port() -> str:
    """A loopback HTTP address where nothing listens."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return f"http://127.0.0.1:{probe.getsockname()[1]}"


class _NotJson(BaseHTTPRequestHandler):
    def _answer(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        body = b"<html>a captive portal, not config specs</html>"
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    do_GET = do_POST = _answer

    def log_message(self, format: str, *args: object) -> None:
        pass


def _malformed_server() -> str:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _NotJson)
    threading.Thread(target=server.serve_forever, name="not-json", daemon=True).start()
    return f"http://127.0.0.1:{server.server_address[1]}"


SCENARIOS = {"timeout": _mute_listener, "refused": _closed_port, "malformed": _malformed_server}


def main(scenario: str, seconds: float) -> None:
    import flagport_statsig.sdk_options
    from flagport import Flagport, User

    if scenario == "timeout":
        flagport_statsig.sdk_options.SDK_INIT_GRACE_MS = 0
    queries = silent_dns()
    url = SCENARIOS[scenario]()
    with LeakWatch(SECRET, loggers=["statsig", "flagport"]) as watch:
        client = Flagport(
            provider="statsig",
            server_secret=SECRET,
            specs_url=f"{url}/v2/download_config_specs",
            log_event_url=f"{url}/v1/log_event",
            id_lists_url=f"{url}/v1/get_id_lists",
            enable_id_lists=True,
            init_timeout_ms=300,
            specs_sync_interval_ms=1000,
            event_flush_interval_ms=1000,
            log_level="debug",
        )
        user = User(user_id="egress")
        client.check_gate(user, "any_gate")
        client.get_config(user, "any_config")
        client.log_event(user, "egress_probe")
        time.sleep(seconds)
        client.flush(2)
        client.shutdown(2)
    kept = sorted({found for _, text in watch.texts for found in _KEPT.findall(text)})
    looked_up = sorted({query_name(packet) for packet in queries})
    print(json.dumps({"looked_up": looked_up, "kept_from": kept, "leaks": watch.leaks()}))


if __name__ == "__main__":
    logging.getLogger().setLevel(logging.DEBUG)
    main(sys.argv[1], float(sys.argv[2]))
