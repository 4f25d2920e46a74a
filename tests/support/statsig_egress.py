"""Which host names the Statsig SDK looks up while its start-up times out.

Run as a script in namespaces of its own (:func:`stalled_dns.isolated_command`): the
only name server is a silent one on 127.0.0.1 that records each query, so any host the
SDK tries to reach shows up by name and no packet leaves the machine. The provider's
URLs point at a loopback listener that accepts connections and never answers, so the
start-up times out; the script waits ``SECONDS`` (less than the SDK's 10 s request
timeout), flushes events and prints the names looked up as JSON.
"""

from __future__ import annotations

import json
import socket
import sys
import threading
import time

from stalled_dns import query_name, silent_dns


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


def main(seconds: float) -> None:
    from flagport import Flagport, User

    queries = silent_dns()
    url = _mute_listener()
    client = Flagport(
        provider="statsig",
        server_secret="secret-egress-canary",
        specs_url=f"{url}/v2/download_config_specs",
        log_event_url=f"{url}/v1/log_event",
        id_lists_url=f"{url}/v1/get_id_lists",
        enable_id_lists=True,
        init_timeout_ms=300,
        specs_sync_interval_ms=1000,
    )
    user = User(user_id="egress")
    client.check_gate(user, "any_gate")
    client.log_event(user, "egress_probe")
    time.sleep(seconds)
    client.flush()
    print(json.dumps(sorted({query_name(packet) for packet in queries})), flush=True)


if __name__ == "__main__":
    main(float(sys.argv[1]))
