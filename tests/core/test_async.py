"""The async lifecycle (issue 18 §1): nothing that waits runs on the event loop's thread.

Every test runs on asyncio's own loop and on uvloop.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Awaitable, Callable
from contextlib import closing
from typing import Any, TypeVar

import pytest
import uvloop
from silent_server import SilentServer, vendor_options, watch_the_loop

import flagport
from flagport import ErrorCode, Event, Flagport, Provider, ProviderStatus, Reason, User
from flagport.results import ConfigResult, ExperimentResult, GateResult

T = TypeVar("T")
USER = User(user_id="42")
HANG_GUARD = 30.0  # seconds: only a broken start takes this long


@pytest.fixture(params=["asyncio", "uvloop"])
def run(request: pytest.FixtureRequest) -> Callable[[Callable[[], Awaitable[T]]], T]:
    """Runs a coroutine function on a fresh loop of the parametrised kind."""
    factory = uvloop.new_event_loop if request.param == "uvloop" else None

    def runner(main: Callable[[], Awaitable[T]]) -> T:
        async def guarded() -> T:
            return await asyncio.wait_for(main(), HANG_GUARD)

        with asyncio.Runner(loop_factory=factory) as loop:
            return loop.run(guarded())

    return runner


class Held(Provider):
    """Every gate passes, once its start was let go: ``release`` it from the test."""

    name = "held"

    def __init__(self, options: Any) -> None:
        super().__init__(options)
        self.release = threading.Event()
        self.start_threads: list[str] = []
        self.start_returned = threading.Event()

    def start(self) -> None:
        self.start_threads.append(threading.current_thread().name)
        self.release.wait(HANG_GUARD)
        super().start()
        self.start_returned.set()

    def evaluate_gate(self, user: User, name: str, *, expose: bool = True) -> GateResult:
        return GateResult(name=name, value=True, reason=Reason.STATIC, provider=self.name)

    def evaluate_experiment(
        self, user: User, name: str, *, expose: bool = True
    ) -> ExperimentResult:
        return ExperimentResult(name=name, group="b", value={"x": 1}, reason=Reason.STATIC)

    def evaluate_config(self, user: User, name: str, *, expose: bool = True) -> ConfigResult:
        return ConfigResult(name=name, value={"x": 1}, reason=Reason.STATIC)


def held(**kwargs: Any) -> tuple[Flagport, Held]:
    provider = Held(Held.Options())
    return Flagport(provider, strict=False, **kwargs), provider


def test_an_evaluation_on_the_loop_serves_defaults_while_the_provider_starts(run: Any) -> None:
    fp, provider = held()

    async def main() -> None:
        gate = fp.get_gate(USER, "g")
        assert (gate.value, gate.reason) == (False, Reason.ERROR)
        assert gate.error_code is ErrorCode.PROVIDER_NOT_READY
        assert fp.check_gate(USER, "g", default=True) is True
        assert fp.get_experiment(USER, "e", default={"x": 0}).value == {"x": 0}
        assert fp.get_config(USER, "c").error_code is ErrorCode.PROVIDER_NOT_READY
        fp.log_event(USER, "purchase")  # starts nothing more, waits for nothing
        assert fp.evaluate_all(USER).gates == {}
        # the start began on a thread of its own and goes on
        assert not await fp.wait_ready(0.01)
        provider.release.set()
        assert await fp.wait_ready(HANG_GUARD)
        assert fp.check_gate(USER, "g") is True
        assert fp.get_gate(USER, "g").reason is Reason.STATIC

    run(main)
    assert provider.start_threads == ["flagport-start-held"]
    fp.shutdown()


def test_sync_code_still_starts_the_provider_on_first_use() -> None:
    fp, provider = held()
    provider.release.set()
    assert fp.check_gate(USER, "g") is True
    assert provider.start_threads == [threading.current_thread().name]
    fp.shutdown()


def test_start_runs_off_the_loop_which_keeps_running_meanwhile(run: Any) -> None:
    fp, provider = held()

    async def main() -> int:
        ticks = 0

        async def ticker() -> None:
            # The start returns only after the loop ticked: it cannot, if it blocks the loop.
            nonlocal ticks
            while not provider.start_returned.is_set():
                ticks += 1
                if ticks == 3:
                    provider.release.set()
                await asyncio.sleep(0.001)

        ticking = asyncio.create_task(ticker())
        await fp.start()
        await ticking
        return ticks

    assert run(main) >= 3
    assert provider.status is ProviderStatus.READY
    assert provider.start_threads == ["flagport-start-held"]
    fp.shutdown()


def test_async_with_starts_flushes_and_closes(run: Any) -> None:
    seen: list[Event] = []

    async def main() -> Flagport:
        async with Flagport(provider="passall", events={"sinks": [seen.append]}) as fp:
            assert fp.provider.status is ProviderStatus.READY
            fp.log_event(USER, "purchase", 1.0)
            assert await fp.aflush(HANG_GUARD)
            assert [e.name for e in seen] == ["purchase"]
            fp.log_event(USER, "signup")
        return fp

    fp = run(main)
    assert [e.name for e in seen] == ["purchase", "signup"]  # aclose delivered it
    assert "closed" in repr(fp)
    assert fp.get_gate(USER, "g").error_code is ErrorCode.PROVIDER_NOT_READY


def test_aclose_does_not_wait_for_a_start_that_hangs(run: Any) -> None:
    fp, provider = held()

    async def main() -> None:
        fp.check_gate(USER, "g")  # the start begins, and hangs
        await fp.aclose(timeout=0.05)
        assert not provider.start_returned.is_set()
        assert fp.get_gate(USER, "g").error_code is ErrorCode.PROVIDER_NOT_READY

    run(main)
    provider.release.set()
    assert provider.start_returned.wait(HANG_GUARD)
    # the start that returned after the shutdown stopped its provider
    for _ in range(1000):
        if provider.status is ProviderStatus.SHUT_DOWN:
            break
        threading.Event().wait(0.01)
    assert provider.status is ProviderStatus.SHUT_DOWN


def test_a_closed_client_begins_no_start_on_the_loop(run: Any) -> None:
    async def main() -> None:
        fp = Flagport(provider="passall")
        await fp.aclose()
        for _ in range(3):
            assert fp.get_gate(USER, "g").error_code is ErrorCode.PROVIDER_NOT_READY
            fp.log_event(USER, "late")
        assert fp._lifecycle._background is None  # no thread spent on a start

    run(main)


class BrokenStart(Held):
    name = "broken_start"

    def start(self) -> None:
        raise OSError("vendor unreachable")


def test_strict_start_raises_and_so_does_an_evaluation_before_ready(run: Any) -> None:
    async def main() -> None:
        fp = Flagport(BrokenStart(BrokenStart.Options()), strict=True)
        with pytest.raises(flagport.ProviderNotReadyError, match="vendor unreachable"):
            await fp.start()
        waiting, provider = held()
        strict = Flagport(provider, strict=True)
        with pytest.raises(flagport.ProviderNotReadyError, match="still starting"):
            strict.check_gate(USER, "g")
        provider.release.set()
        assert await strict.wait_ready(HANG_GUARD)
        assert strict.check_gate(USER, "g") is True
        await strict.aclose()
        await waiting.aclose()

    run(main)


def test_a_provider_that_fails_to_start_is_not_ready(run: Any) -> None:
    async def main() -> bool:
        fp = Flagport(BrokenStart(BrokenStart.Options()), strict=False)
        await fp.start()  # logged, not raised
        ready = await fp.wait_ready(0.05)
        await fp.aclose()
        return ready

    assert run(main) is False


def test_module_level_async_lifecycle(run: Any) -> None:
    previous = flagport.set_client(None)
    seen: list[Event] = []

    async def main() -> None:
        flagport.setup(provider="passall", events={"sinks": [seen.append]})
        await flagport.start()
        assert await flagport.wait_ready(1.0)
        flagport.log_event(USER, "purchase")
        assert await flagport.aflush()
        assert [e.name for e in seen] == ["purchase"]
        await flagport.aclose()
        assert await flagport.aflush()  # no client: nothing to deliver

    try:
        run(main)
        assert flagport.set_client(None) is None
    finally:
        flagport.set_client(previous)


@pytest.mark.parametrize("vendor", ["statsig", "growthbook", "featbit"])
def test_vendors_start_against_a_server_that_does_not_answer_off_the_loop(
    vendor: str, run: Any
) -> None:
    """The loop keeps ticking while the vendor SDK waits for a silent server.

    ``benchmarks/bench_async_stall.py`` prints the longest stall measured this way.
    """
    with closing(SilentServer()) as server:
        fp = Flagport(vendor, strict=False, **vendor_options(vendor, server, timeout=0.5))

        async def main() -> tuple[GateResult, int, bool]:
            async def work() -> tuple[GateResult, bool]:
                gate = fp.get_gate(USER, "new_checkout")
                return gate, await fp.wait_ready(0.2)

            (gate, ready), watch = await watch_the_loop(work)
            await fp.start()
            await fp.aclose(timeout=5)
            return gate, len(watch.gaps), ready

        gate, ticks, ready = run(main)
        assert gate.error_code is ErrorCode.PROVIDER_NOT_READY
        assert not ready
        assert ticks > 1  # the loop ran while the SDK waited
        assert server.accepted >= 1  # the SDK did reach the server
