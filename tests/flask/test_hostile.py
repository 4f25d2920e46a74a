"""The Flask extension set up twice, odd users, concurrent requests while flags change."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

from flask import Flask, request
from web_flags import write_flags

import flagport
from flagport_flask import FlagportExtension


def header_user() -> Any:
    kind = request.headers.get("X-Kind")
    if kind == "list":
        return ["not", "a", "user"]
    user_id = request.headers.get("X-User")
    return {"user_id": user_id} if user_id else None


def make_app(flags: Path) -> Flask:
    app = Flask(__name__)
    app.config["FLAGPORT"] = {"provider": "local", "path": flags}

    @app.get("/who")
    def who() -> dict[str, Any]:
        user = flagport.current_user()
        return {"user_id": user.user_id if user else None, "beta": flagport.check_gate("beta")}

    return app


def test_init_app_twice_never_leaves_a_user_for_the_next_request(tmp_path: Path) -> None:
    # Each init_app registered the hooks again: two scopes per request, the first one's
    # ExitStack overwritten in g and never closed, so its user stayed set in the thread
    # and the next anonymous request (and code outside any request) saw it.
    app = make_app(write_flags(tmp_path / "flags.yaml", beta=True))
    ext = FlagportExtension(user_from_request=header_user)
    ext.init_app(app)
    ext.init_app(app)
    http = app.test_client()
    assert http.get("/who", headers={"X-User": "alice"}).json == {"user_id": "alice", "beta": True}
    assert http.get("/who").json == {"user_id": None, "beta": False}
    assert flagport.current_user() is None
    assert app.extensions["flagport"].client is ext.client


def test_odd_users_and_huge_headers_never_fail_the_request(tmp_path: Path) -> None:
    app = make_app(write_flags(tmp_path / "flags.yaml", beta=True))
    FlagportExtension(app, user_from_request=header_user)
    http = app.test_client()
    huge = http.get("/who", headers={"X-User": "u" * 60_000})
    odd = http.get("/who", headers={"X-Kind": "list"})
    assert huge.json == {"user_id": "u" * 60_000, "beta": True}
    assert (odd.status_code, odd.json) == (200, {"user_id": None, "beta": False})


def test_concurrent_requests_each_see_their_own_user_while_flags_change(tmp_path: Path) -> None:
    flags = write_flags(tmp_path / "flags.yaml", beta=True)
    app = make_app(flags)
    FlagportExtension(app, user_from_request=header_user)
    wrong: list[Any] = []

    def worker(n: int) -> None:
        http = app.test_client()
        for i in range(40):
            user = f"w{n}-{i}" if i % 3 else None
            reply = http.get("/who", headers={"X-User": user} if user else {}).json
            if reply["user_id"] != user or (user is None and reply["beta"]):
                wrong.append((user, reply))

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(6)]
    for thread in threads:
        thread.start()
    for beta in (False, True, False):
        write_flags(flags, beta=beta)
    for thread in threads:
        thread.join()
    assert wrong == []
    app.extensions["flagport"].client.shutdown()
