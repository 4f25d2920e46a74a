"""The Django example under real servers: gunicorn --preload with 4 workers (WSGI) and
uvicorn (ASGI); a flags-file change made after the fork reaches every worker."""

from __future__ import annotations

import json
import urllib.request
from pathlib import Path

import pytest
from live_server import answers_by_worker, free_port, serve
from web_flags import write_flags

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "django_app"


def page(base: str, user: str = "42") -> str:
    request = urllib.request.Request(f"{base}/", headers={"X-User-Id": user, "Connection": "close"})
    with urllib.request.urlopen(request, timeout=30) as response:
        return str(response.read().decode())


@pytest.mark.parametrize(
    ("server", "workers"),
    [
        pytest.param(
            ["gunicorn", "--preload", "--workers", "4", "shop_site.wsgi"],
            4,
            id="gunicorn-preload-4-workers",
            marks=pytest.mark.slow,  # four workers each load Django
        ),
        pytest.param(["uvicorn", "shop_site.asgi:application"], 1, id="uvicorn-asgi"),
    ],
)
def test_every_worker_sees_a_change_made_after_the_fork(
    tmp_path: Path, server: list[str], workers: int
) -> None:
    flags = write_flags(tmp_path / "flags.yaml", beta=False)
    port = free_port()
    bind = ["--bind", f"127.0.0.1:{port}"] if server[0] == "gunicorn" else ["--port", str(port)]
    env = {"FLAGS_FILE": str(flags), "FLAGPORT_LOCAL_RELOAD_SETTLE": "0"}
    with serve([*server, *bind], EXAMPLE, env, port) as base:
        before = answers_by_worker(f"{base}/gate/beta", workers, False)
        write_flags(flags, beta=True)
        after = answers_by_worker(f"{base}/gate/beta", workers, True)
        text = page(base)
    assert set(before) == set(after)
    # web_flags has no new_checkout or pricing: their defaults; button_color is all blue.
    assert text == "checkout: old\nbutton: blue\ncurrency: USD\n", json.dumps(text)


def test_under_uvicorn_the_events_are_delivered_when_the_server_stops(tmp_path: Path) -> None:
    # Django's ASGI handler has no lifespan and uvicorn ends the process by re-raising
    # the SIGTERM it drained connections for, so exit hooks never ran: every queued
    # exposure was lost (0 of 12). with_lifespan closes the client at shutdown.
    flags = write_flags(tmp_path / "flags.yaml", beta=True)
    events = tmp_path / "events.jsonl"
    port = free_port()
    env = {
        "FLAGS_FILE": str(flags),
        "FLAGPORT_EVENTS_SINKS": "jsonl",
        "FLAGPORT_EVENTS_JSONL_PATH": str(events),
    }
    command = ["uvicorn", "shop_site.asgi:application", "--port", str(port)]
    with serve(command, EXAMPLE, env, port) as base:
        for user in range(12):
            page(base, str(user))
    logged = [json.loads(line) for line in events.read_text().splitlines()]
    assert sorted(e["user"]["user_id"] for e in logged) == sorted(str(u) for u in range(12))
