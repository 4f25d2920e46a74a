"""Name lookups of a ``--live`` download: on a thread of their own, unless there is no name."""

from __future__ import annotations

import threading

import pytest

from flagport.importers.live_sockets import Sockets


def _thread_name() -> str:
    return threading.current_thread().name


@pytest.mark.parametrize("host", ["127.0.0.1", "::1", "[::1]"])
def test_an_ip_address_is_not_looked_up_on_a_thread(host: str) -> None:
    # No name server is asked, so nothing can stall, and a deadline passed meanwhile (a
    # loaded machine) is reported as late, never as "cannot resolve 127.0.0.1".
    assert Sockets().resolve(host, _thread_name) == threading.current_thread().name


def test_a_host_name_is_looked_up_on_a_thread_of_its_own() -> None:
    assert Sockets().resolve("localhost", _thread_name) == "flagport-live-resolve"
