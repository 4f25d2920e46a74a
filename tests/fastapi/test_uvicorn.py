"""The FastAPI example under uvicorn with 2 worker processes, over real HTTP."""

from __future__ import annotations

from pathlib import Path

import pytest
from live_server import answers_by_worker, free_port, get_json, serve
from web_flags import write_flags

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "fastapi_app"
WORKERS = 2


@pytest.mark.slow  # uvicorn's spawned workers each import the application
def test_every_worker_serves_a_flags_file_change(tmp_path: Path) -> None:
    flags = write_flags(tmp_path / "flags.yaml", beta=False)
    port = free_port()
    command = ["uvicorn", "app:app", "--workers", str(WORKERS), "--port", str(port)]
    env = {"FLAGS_FILE": str(flags), "FLAGPORT_LOCAL_RELOAD_SETTLE": "0"}
    with serve(command, EXAMPLE, env, port) as base:
        answers_by_worker(f"{base}/gate/beta", WORKERS, False)
        write_flags(flags, beta=True)
        after = answers_by_worker(f"{base}/gate/beta", WORKERS, True)
        index = get_json(f"{base}/", {"X-User-Id": "42"})
    assert len(after) == WORKERS
    # web_flags has no new_checkout or pricing: the defaults; button_color is all blue.
    assert index == {"checkout": "old", "button": "blue", "currency": "USD"}
