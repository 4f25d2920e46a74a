"""Every provider starts once per run: a second ``start()`` (by hand, then by the client it
is given) opens nothing beside the first, and ``shutdown()`` leaves none of a run's threads.

Each provider runs against the loopback server its own tests use (the vendors' ``testing``
modules, ``tests/support``), and what it runs is read off ``threading.enumerate()`` and,
where the protocol shows it, the server's open connections.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from flag_server import flag_server  # tests/support
from scenario_flags import SCENARIO_FLAGS_YAML  # tests/support

from flagport import FlagNames, Flagport, Provider, ProviderStatus, User
from flagport.plugins import get_provider_class
from flagport_featbit.testing import FeatBitLoopback
from flagport_growthbook.testing import GrowthBookLoopback, scenario_payload
from flagport_statsig.testing import StatsigLoopbackServer, scenario_specs

# Threads of the loopback servers (one per request or connection), not the provider's.
_SERVER_THREADS = ("(process_request_thread)", "(sock_handler)")
USER = User(user_id="1", country="US")


@dataclass
class Case:
    """A provider's name and options, and how many connections its server holds now."""

    provider: str
    options: dict[str, Any]
    connections: Callable[[], int] | None = None
    owned: list[Any] = field(default_factory=list)


def _local(stack: ExitStack, tmp: Path) -> Case:
    (tmp / "flags.yaml").write_text(SCENARIO_FLAGS_YAML)
    return Case("local", {"path": str(tmp / "flags.yaml"), "watch": True})


def _local_url(stack: ExitStack, tmp: Path) -> Case:
    server = stack.enter_context(flag_server())
    server.put("/flags.yaml", SCENARIO_FLAGS_YAML)
    return Case("local", {"url": server.url(), "cache_path": str(tmp / "cache" / "flags.yaml")})


def _migration(stack: ExitStack, tmp: Path) -> Case:
    (tmp / "flags.yaml").write_text(SCENARIO_FLAGS_YAML)
    sides = {
        "from": {"provider": "local", "path": str(tmp / "flags.yaml"), "watch": True},
        "to": {"provider": "passall"},
    }
    return Case("migration", {**sides, "mismatch_log": str(tmp / "mismatches.jsonl")})


def _growthbook(stack: ExitStack, tmp: Path) -> Case:
    server = stack.enter_context(GrowthBookLoopback(scenario_payload()))
    return Case("growthbook", server.options(streaming=True), lambda: server.stream_count)


def _featbit(stack: ExitStack, tmp: Path) -> Case:
    server = stack.enter_context(FeatBitLoopback())
    return Case("featbit", server.provider_options(), lambda: server.connections)


def _statsig(stack: ExitStack, tmp: Path) -> Case:
    server = stack.enter_context(StatsigLoopbackServer(scenario_specs()))
    return Case("statsig", server.provider_options())


def _openfeature(stack: ExitStack, tmp: Path) -> Case:
    of = "flagport_openfeature.testing:scenario_provider"
    return Case("openfeature", {"of_provider": of, "gates": ["new_checkout"]})


CASES: dict[str, Callable[[ExitStack, Path], Case]] = {
    "local": _local,
    "local-url": _local_url,
    "passall": lambda stack, tmp: Case("passall", {}),
    "migration": _migration,
    "growthbook": _growthbook,
    "featbit": _featbit,
    "statsig": _statsig,
    "openfeature": _openfeature,
}


@pytest.fixture(params=sorted(CASES))
def case(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Case]:
    with ExitStack() as stack:
        yield CASES[request.param](stack, tmp_path)


def _theirs(before: set[threading.Thread]) -> set[threading.Thread]:
    """The provider's live threads started since ``before``."""
    return {
        t for t in threading.enumerate() if t not in before and not t.name.endswith(_SERVER_THREADS)
    }


def _settled(case: Case, expected: int | None = None) -> None:
    """Give a start's connections time to open (and a second one time to show)."""
    if case.connections is None:
        time.sleep(0.3)
        return
    deadline = time.monotonic() + 5
    while case.connections() < (expected or 1) and time.monotonic() < deadline:
        time.sleep(0.02)
    time.sleep(0.3)


def _gone(threads: set[threading.Thread], timeout: float = 15.0) -> list[str]:
    # FeatBit's streaming thread may outlive shutdown() by ~9 s on a loaded machine: its
    # stop is left to finish in the background (FeatBitProvider.shutdown) and does.
    deadline = time.monotonic() + timeout
    for thread in threads:
        thread.join(max(0.0, deadline - time.monotonic()))
    return sorted(t.name for t in threads if t.is_alive())


def _build(case: Case) -> Provider:
    return get_provider_class(case.provider).from_options(**case.options)


def test_a_second_start_starts_nothing(case: Case) -> None:
    before = set(threading.enumerate())
    provider = _build(case)
    try:
        provider.start()
        _settled(case)
        first, status = _theirs(before), provider.status
        of = getattr(provider, "_of", None)  # the OpenFeature provider it built
        provider.start()
        _settled(case, expected=2)
        assert sorted(t.name for t in _theirs(before) - first) == []
        assert provider.status is status
        assert getattr(provider, "_of", None) is of
        if case.connections is not None:
            assert case.connections() == 1
    finally:
        provider.shutdown(5)
    assert _gone(_theirs(before)) == []


def test_a_client_given_a_started_provider_starts_nothing(case: Case) -> None:
    before = set(threading.enumerate())
    provider = _build(case)
    provider.start()
    # An evaluation first: what it starts lazily (a pool sending exposures) is no start.
    provider.evaluate_gate(USER, "new_checkout")
    _settled(case)
    first = _theirs(before)
    with Flagport(provider=provider) as fp:
        fp.check_gate(USER, "new_checkout")
        _settled(case, expected=2)
        assert sorted(t.name for t in _theirs(before) - first) == []
        if case.connections is not None:
            assert case.connections() == 1
    assert _gone(_theirs(before)) == []


def test_shutdown_then_start_leaves_none_of_the_first_run(case: Case) -> None:
    before = set(threading.enumerate())
    provider = _build(case)
    provider.start()
    _settled(case)
    first = _theirs(before)
    provider.shutdown(5)
    assert _gone(first) == []
    provider.start()
    _settled(case)
    provider.shutdown(5)
    assert _gone(_theirs(before)) == []


def test_a_client_shuts_down_the_started_provider_it_was_given_without_evaluating(
    case: Case,
) -> None:
    # The client owns the provider it was given (as OpenFeature's shutdown shuts its
    # providers down), also one the application started and no evaluation reached.
    before = set(threading.enumerate())
    provider = _build(case)
    provider.start()
    _settled(case)
    Flagport(provider=provider).shutdown(timeout=5)
    assert _gone(_theirs(before)) == []
    # What a start opens without a Python thread: Statsig's (Rust) SDK, an OpenFeature provider.
    assert (getattr(provider, "_sdk", None), getattr(provider, "_of", None)) == (None, None)
    assert provider.status is ProviderStatus.SHUT_DOWN
    parts = getattr(provider, "sides", {}).values()  # the migration provider's sides
    assert [part.status for part in parts] == [ProviderStatus.SHUT_DOWN] * len(parts)


def test_a_client_shuts_down_a_provider_no_one_started(case: Case) -> None:
    before = set(threading.enumerate())
    provider = _build(case)
    Flagport(provider=provider).shutdown(timeout=5)
    assert _gone(_theirs(before)) == []
    assert provider.status is ProviderStatus.SHUT_DOWN


def _answers(provider: Provider) -> tuple[bool, FlagNames]:
    return provider.check_gate(USER, "new_checkout"), provider.names()


def _ready(provider: Provider, timeout: float = 5.0) -> ProviderStatus:
    deadline = time.monotonic() + timeout
    while provider.status is not ProviderStatus.READY and time.monotonic() < deadline:
        time.sleep(0.02)
    return provider.status


def _kinds(threads: set[threading.Thread]) -> list[str]:
    """The threads' names without their numbers (``Thread-7 (run)`` is ``Thread- (run)``)."""
    return sorted({"".join(c for c in t.name if not c.isdigit()) for t in threads})


def test_shutdown_then_start_serves_again(case: Case) -> None:
    """A start after shutdown is a fresh run: it serves what the first run served, runs
    what the first run ran (its own threads, none of the first's), and its shutdown
    leaves nothing behind."""
    before = set(threading.enumerate())
    provider = _build(case)
    provider.start()
    _settled(case)
    assert _ready(provider) is ProviderStatus.READY
    served, first = _answers(provider), _theirs(before)
    provider.shutdown(5)
    assert provider.status is ProviderStatus.SHUT_DOWN
    assert _gone(first) == []
    provider.start()
    try:
        _settled(case, expected=2)
        assert _ready(provider) is ProviderStatus.READY
        assert _answers(provider) == served
        again = _theirs(before)
        assert not again & first
        assert _kinds(again) == _kinds(first)
        if case.connections is not None:
            # GrowthBook's server counts the streams opened, FeatBit's those open now.
            assert case.connections() == (2 if case.provider == "growthbook" else 1)
    finally:
        provider.shutdown(5)
    assert provider.status is ProviderStatus.SHUT_DOWN
    assert _gone(_theirs(before)) == []
