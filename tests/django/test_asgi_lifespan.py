"""with_lifespan: Django's ASGI application with a lifespan for the flagport client."""

from __future__ import annotations

import asyncio
from typing import Any

from django.conf import settings
from django.core.asgi import get_asgi_application
from django.test import override_settings

from flagport.events.model import Event
from flagport_django.asgi import with_lifespan
from flagport_django.conf import get_client


def run_lifespan(application: Any) -> list[dict[str, Any]]:
    """Start the application up and shut it down as a server does; what it sent."""
    incoming = [{"type": "lifespan.startup"}, {"type": "lifespan.shutdown"}]
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return incoming.pop(0)

    async def send(message: Any) -> None:
        sent.append(dict(message))

    asyncio.run(application({"type": "lifespan"}, receive, send))
    return sent


def test_the_client_is_ready_at_startup_and_delivers_its_events_at_shutdown() -> None:
    events: list[Event] = []
    options = {**settings.FLAGPORT, "events": {"sinks": [events.append]}}
    with override_settings(FLAGPORT=options):
        client = get_client()
        client.get_experiment({"user_id": "7"}, "button_color")  # queued
        sent = run_lifespan(with_lifespan(get_asgi_application()))
    assert sent == [{"type": "lifespan.startup.complete"}, {"type": "lifespan.shutdown.complete"}]
    assert client.closed
    assert [e.user.user_id for e in events] == ["7"]


def test_bad_settings_fail_the_startup_with_their_fix() -> None:
    with override_settings(FLAGPORT={"provider": "local", "pth": "flags.yaml"}):
        sent = run_lifespan(with_lifespan(no_application))
    (failed,) = sent
    assert failed["type"] == "lifespan.startup.failed"
    assert "unknown option 'pth'" in failed["message"]


def test_other_scopes_go_to_the_application() -> None:
    seen: list[str] = []

    async def application(scope: Any, receive: Any, send: Any) -> None:
        seen.append(scope["type"])

    asyncio.run(with_lifespan(application)({"type": "http"}, no_receive, no_send))
    assert seen == ["http"]


async def no_application(scope: Any, receive: Any, send: Any) -> None:
    raise AssertionError("a lifespan scope reached the application")


async def no_receive() -> Any:
    raise AssertionError("nothing to receive")


async def no_send(message: Any) -> None:
    raise AssertionError("nothing to send")
