"""The Flask example under gunicorn --preload with 4 workers: the classic fork trap.

With --preload the application (and its flags client, which loads the file at import)
is built in the master; the workers are forked from it. A flags-file change made
after the fork must reach every worker, each with its own watcher.
"""

from __future__ import annotations

from pathlib import Path

from live_server import answers_by_worker, free_port, serve
from web_flags import write_flags

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "flask_app"
WORKERS = 4


def test_a_change_after_the_fork_reaches_every_preloaded_worker(tmp_path: Path) -> None:
    flags = write_flags(tmp_path / "flags.yaml", beta=False)
    port = free_port()
    command = ["gunicorn", "--preload", "--workers", str(WORKERS), "--bind"]
    command += [f"127.0.0.1:{port}", "app:app"]
    env = {"FLAGS_FILE": str(flags), "FLAGPORT_LOCAL_RELOAD_SETTLE": "0"}
    with serve(command, EXAMPLE, env, port) as base:
        before = answers_by_worker(f"{base}/gate/beta", WORKERS, False)
        write_flags(flags, beta=True)
        after = answers_by_worker(f"{base}/gate/beta", WORKERS, True)
    assert len(before) == len(after) == WORKERS
    assert set(before) == set(after)  # the same workers, none restarted
