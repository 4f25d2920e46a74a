from __future__ import annotations

import asyncio
import gc
import logging
import re
import sys
import threading
import urllib.request
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any
from wsgiref.simple_server import WSGIRequestHandler, make_server
from wsgiref.types import StartResponse, WSGIEnvironment
from wsgiref.util import setup_testing_defaults

import flask
import pytest

import flagport
from flagport import Event, Flagport, User
from flagport.middleware import FlagportASGIMiddleware, FlagportWSGIMiddleware

DOCS = Path(__file__).resolve().parents[2] / "docs"


@pytest.fixture
def client(scoped_client: tuple[Flagport, list[Event]]) -> tuple[Flagport, list[Event]]:
    return scoped_client


def user_from_header(environ: WSGIEnvironment) -> User | dict[str, Any] | None:
    name = environ.get("HTTP_X_USER")
    if name == "boom":
        raise RuntimeError("session store down")
    if name == "bad":
        return {"user_id": name, "custom": "not a mapping"}  # not a valid user
    return User(user_id=name) if name else None


def describe() -> bytes:
    """What a handler sees: the scope's user and the shortcuts' answer."""
    user = flagport.current_user()
    gate = flagport.get_gate("beta")
    code = gate.error_code.value if gate.error_code else "-"
    return f"{user.user_id if user else None}:{gate.value}:{code}".encode()


class Closing:
    """A lazy body with a close(), as generated responses and file wrappers have."""

    def __init__(self, chunks: int) -> None:
        self.chunks = chunks
        self.closed_as: tuple[str | None] | None = None

    def __iter__(self) -> Iterator[bytes]:
        for _ in range(self.chunks):
            flagport.get_experiment("button_color")
            yield describe() + b"\n"

    def close(self) -> None:
        user = flagport.current_user()
        self.closed_as = (user.user_id if user else None,)


def wsgi_app(bodies: list[Closing]) -> Any:
    def app(environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        start_response("200 OK", [("Content-Type", "text/plain")])
        if environ.get("PATH_INFO") == "/list":
            return [describe()]
        bodies.append(Closing(3))
        return bodies[-1]

    return app


def request(user: str | None, path: str = "/") -> dict[str, Any]:
    environ: dict[str, Any] = {"PATH_INFO": path}
    setup_testing_defaults(environ)
    if user is not None:
        environ["HTTP_X_USER"] = user
    return environ


def call(app: Any, user: str | None, path: str = "/") -> tuple[str, Any]:
    statuses: list[str] = []

    def start_response(status: str, headers: Any, exc_info: Any = None) -> Any:
        statuses.append(status)
        return lambda data: None

    body = app(request(user, path), start_response)
    # The app has returned but its body is unread: the caller's context has no scope.
    assert flagport.current_user() is None
    try:
        text = b"".join(body).decode()
    finally:
        getattr(body, "close", lambda: None)()
    assert statuses == ["200 OK"]
    return text, body


def test_wsgi_scope_covers_the_body_iteration_and_close(
    client: tuple[Flagport, list[Event]],
) -> None:
    fp, seen = client
    bodies: list[Closing] = []
    app = FlagportWSGIMiddleware(wsgi_app(bodies), user_from_header)
    text, _ = call(app, "alice")
    assert text.splitlines() == ["alice:True:-"] * 3
    assert bodies[0].closed_as == ("alice",)
    text, _ = call(app, "bob")
    assert text.splitlines() == ["bob:False:-"] * 3
    assert flagport.current_user() is None
    fp.flush()
    # three evaluations per request, one exposure per request
    assert [(e.kind.value, e.user.user_id) for e in seen] == [
        ("exposure", "alice"),
        ("exposure", "bob"),
    ]


def test_wsgi_no_user_and_a_failing_user_callable_serve_without_a_scope(
    client: tuple[Flagport, list[Event]], caplog: pytest.LogCaptureFixture
) -> None:
    app = FlagportWSGIMiddleware(wsgi_app([]), user_from_header)
    assert call(app, None, "/list")[0] == "None:False:INVALID_CONTEXT"
    with caplog.at_level(logging.DEBUG, logger="flagport"):
        for _ in range(3):
            assert call(app, "boom", "/list")[0] == "None:False:INVALID_CONTEXT"
        assert call(app, "bad", "/list")[0] == "None:False:INVALID_CONTEXT"
    assert app.user_errors == 4
    errors = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert len(errors) == 1
    assert "session store down" in caplog.text
    assert call(app, "alice", "/list")[0] == "alice:True:-"


def test_wsgi_list_bodies_are_returned_unwrapped(client: tuple[Flagport, list[Event]]) -> None:
    app = FlagportWSGIMiddleware(wsgi_app([]), user_from_header)
    text, body = call(app, "alice", "/list")
    assert text == "alice:True:-"
    assert isinstance(body, list)


def test_wsgi_app_raising_leaves_no_scope(client: tuple[Flagport, list[Event]]) -> None:
    def broken(environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        assert flagport.current_user() == User(user_id="alice")
        raise ValueError("handler bug")

    app = FlagportWSGIMiddleware(broken, user_from_header)
    with pytest.raises(ValueError, match="handler bug"):
        call(app, "alice")
    assert flagport.current_user() is None


def test_wsgi_real_server_keeps_requests_apart(client: tuple[Flagport, list[Event]]) -> None:
    bodies: list[Closing] = []

    class Quiet(WSGIRequestHandler):
        def log_message(self, format: str, *args: Any) -> None:
            pass

    app = FlagportWSGIMiddleware(wsgi_app(bodies), user_from_header)
    server = make_server("127.0.0.1", 0, app, handler_class=Quiet)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05})
    thread.start()
    base = f"http://127.0.0.1:{server.server_port}"

    def get(path: str, user: str | None) -> tuple[str, str | None]:
        request = urllib.request.Request(base + path, headers={"X-User": user} if user else {})
        with urllib.request.urlopen(request, timeout=5) as response:
            return response.read().decode(), response.headers.get("Content-Length")

    try:
        # one server thread serves them all, one after the other
        assert get("/", "alice")[0].splitlines() == ["alice:True:-"] * 3
        assert get("/", None)[0].splitlines() == ["None:False:INVALID_CONTEXT"] * 3
        assert get("/", "bob")[0].splitlines() == ["bob:False:-"] * 3
        assert get("/list", "alice") == ("alice:True:-", "12")  # Content-Length kept
        assert get("/list", None)[0] == "None:False:INVALID_CONTEXT"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
    assert [b.closed_as for b in bodies] == [("alice",), (None,), ("bob",)]


def test_wsgi_bound_client_and_flush(client: tuple[Flagport, list[Event]]) -> None:
    seen: list[Event] = []
    own = Flagport(provider="passall", events={"sinks": [seen.append], "exposure_window": 0})
    own.override_gate("beta", True)  # the process-wide client says False for bob
    try:
        inner: list[Flagport] = []
        handler = wsgi_app([])

        def probe(environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
            inner.append(flagport.current_client())
            if environ.get("HTTP_X_USER"):
                flagport.log_event("purchase", value=1.0)
            return handler(environ, start_response)  # type: ignore[no-any-return]

        app = FlagportWSGIMiddleware(probe, user_from_header, client=own, flush=True)
        assert call(app, "bob", "/list")[0] == "bob:True:-"
        # flush=True delivered the event before the response was complete
        assert [(e.name, e.user.user_id) for e in seen] == [("purchase", "bob")]
        # a client is bound even without a user
        assert call(app, None, "/list")[0] == "None:False:INVALID_CONTEXT"
        assert inner == [own, own]
        assert flagport.current_client() is client[0]
    finally:
        own.shutdown()


# A body iterated but never closed, then garbage-collected: its scope lives in a
# Context of its own, which is simply dropped; nothing may be reported (a Flask test run
# with -W error::pytest.PytestUnraisableExceptionWarning failed on it).


@pytest.mark.parametrize("bound", [False, True], ids=["scope", "scope-and-client"])
def test_wsgi_body_never_closed_is_dropped_silently(
    client: tuple[Flagport, list[Event]], monkeypatch: pytest.MonkeyPatch, bound: bool
) -> None:
    unraisable: list[Any] = []
    monkeypatch.setattr(sys, "unraisablehook", unraisable.append)
    bodies: list[Closing] = []
    own = client[0] if bound else None
    app = FlagportWSGIMiddleware(wsgi_app(bodies), user_from_header, client=own)
    body = app(request("alice"), lambda status, headers, exc_info=None: lambda data: None)
    assert b"".join(body).decode().splitlines() == ["alice:True:-"] * 3
    del body  # no close(), as a careless server or test helper does
    gc.collect()
    assert [f"{u.exc_type.__name__}: {u.exc_value}" for u in unraisable] == []
    assert bodies[0].closed_as is None
    assert flagport.current_user() is None
    assert call(app, "bob")[0].splitlines() == ["bob:False:-"] * 3


def test_flask_test_client_requests_report_nothing(
    client: tuple[Flagport, list[Event]], monkeypatch: pytest.MonkeyPatch
) -> None:
    unraisable: list[Any] = []
    monkeypatch.setattr(sys, "unraisablehook", unraisable.append)
    app = flask.Flask(__name__)

    @app.get("/")
    def index() -> str:
        return describe().decode()

    app.wsgi_app = FlagportWSGIMiddleware(app.wsgi_app, user_from_header)  # type: ignore[method-assign]
    http = app.test_client()
    assert http.get("/", headers={"X-User": "alice"}).text == "alice:True:-"
    assert http.get("/").text == "None:False:INVALID_CONTEXT"
    gc.collect()
    assert [f"{u.exc_type.__name__}: {u.exc_value}" for u in unraisable] == []
    assert flagport.current_user() is None


# ASGI: the application is driven directly, as a server would.


async def asgi_app(scope: Any, receive: Any, send: Any) -> None:
    if scope["type"] == "lifespan":
        message = await receive()
        assert flagport.current_user() is None
        await send({"type": message["type"] + ".complete"})
        return
    await receive()
    await send({"type": "http.response.start", "status": 200, "headers": []})
    for _ in range(3):  # streamed: other requests run between the chunks
        await asyncio.sleep(0)
        flagport.get_experiment("button_color")
        await send({"type": "http.response.body", "body": describe(), "more_body": True})
    await send({"type": "http.response.body", "body": b"", "more_body": False})


async def drive(app: Any, scope_type: str, user: str | None) -> list[Any]:
    headers = [(b"x-user", user.encode())] if user else []
    scope = {"type": scope_type, "path": "/", "headers": headers}
    incoming = [{"type": "http.request", "body": b"", "more_body": False}]
    if scope_type == "lifespan":
        incoming = [{"type": "lifespan.startup"}]
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return incoming.pop(0)

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)
        await asyncio.sleep(0)

    await app(scope, receive, send)
    if scope_type == "lifespan":
        return [m["type"].encode() for m in sent]
    if scope_type == "websocket":
        return [m["text"] for m in sent]
    assert sent[0]["type"] == "http.response.start"
    return [m["body"] for m in sent[1:] if m["body"]]


async def user_from_scope(scope: Any) -> User | None:
    await asyncio.sleep(0)  # as a session lookup would
    found = dict(scope["headers"]).get(b"x-user")
    if found == b"boom":
        raise RuntimeError("session store down")
    return User(user_id=found.decode()) if found else None


def test_asgi_concurrent_streaming_requests_each_see_their_own_user(
    client: tuple[Flagport, list[Event]],
) -> None:
    fp, seen = client
    app = FlagportASGIMiddleware(asgi_app, user_from_scope)

    async def main() -> list[list[Any]]:
        users = ["alice", "bob", None, "alice", "boom"]
        return list(await asyncio.gather(*(drive(app, "http", u) for u in users)))

    assert asyncio.run(main()) == [
        [b"alice:True:-"] * 3,
        [b"bob:False:-"] * 3,
        [b"None:False:INVALID_CONTEXT"] * 3,
        [b"alice:True:-"] * 3,
        [b"None:False:INVALID_CONTEXT"] * 3,
    ]
    assert app.user_errors == 1
    fp.flush()
    # one exposure per request with a user, though each evaluated three times
    assert sorted(e.user.user_id or "" for e in seen if e.kind.value == "exposure") == [
        "alice",
        "alice",
        "bob",
    ]


def test_asgi_lifespan_passes_through_and_websockets_get_a_scope(
    client: tuple[Flagport, list[Event]],
) -> None:
    asked: list[str] = []

    def sync_user(scope: Any) -> dict[str, Any]:
        asked.append(scope["type"])
        return {"user_id": "alice", "plan": "pro"}

    async def websocket(scope: Any, receive: Any, send: Any) -> None:
        user = flagport.current_user()
        await send({"type": "websocket.send", "text": user.custom["plan"] if user else None})

    async def app(scope: Any, receive: Any, send: Any) -> None:
        await (websocket if scope["type"] == "websocket" else asgi_app)(scope, receive, send)

    wrapped = FlagportASGIMiddleware(app, sync_user)
    lifespan = asyncio.run(drive(wrapped, "lifespan", "alice"))
    assert lifespan == [b"lifespan.startup.complete"]
    assert asked == []
    assert asyncio.run(drive(wrapped, "websocket", None)) == ["pro"]
    assert asked == ["websocket"]


def test_asgi_bound_client_flush_and_app_errors(client: tuple[Flagport, list[Event]]) -> None:
    seen: list[Event] = []
    own = Flagport(provider="passall", events={"sinks": [seen.append], "exposure_window": 0})

    async def app(scope: Any, receive: Any, send: Any) -> None:
        assert flagport.current_client() is own
        flagport.log_event("purchase", value=2.0)
        if scope["path"] == "/fail":
            raise ValueError("handler bug")
        await asgi_app(scope, receive, send)

    wrapped = FlagportASGIMiddleware(app, user_from_scope, client=own, flush=True)
    try:
        assert asyncio.run(drive(wrapped, "http", "bob")) == [b"bob:True:-"] * 3
        # flushed before the request ended; passall's experiments expose nothing
        assert [(e.name, e.user.user_id) for e in seen] == [("purchase", "bob")]
        assert flagport.current_client() is client[0]
        assert flagport.current_user() is None

        fail = {"type": "http", "path": "/fail", "headers": [(b"x-user", b"bob")]}
        with pytest.raises(ValueError, match="handler bug"):
            asyncio.run(wrapped(fail, None, None))  # type: ignore[arg-type]
        assert len(seen) == 2  # flushed even when the app raised
    finally:
        own.shutdown()


def test_docs_plain_wsgi_example_runs(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    text = (DOCS / "web.md").read_text()
    examples = [b for b in re.findall(r"```python\n(.*?)```", text, re.DOTALL) if "wsgiref" in b]
    assert len(examples) == 1
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("FLAGPORT_PROVIDER", raising=False)
    previous = flagport.set_client(None)
    try:
        exec(compile(examples[0], "docs/web.md", "exec"), {"__name__": "docs_web"})
    finally:
        flagport.shutdown()
        flagport.set_client(previous)
