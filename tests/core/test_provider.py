"""``flagport.provider``: what every provider shares."""

from __future__ import annotations

import os
import threading

import pytest
from flagless import FlaglessProvider  # tests/support

from flagport import FlagNames, GeneralError, Provider
from flagport.provider import ProviderOptions, ProviderStatus


def test_flag_names_of_one_kind() -> None:
    names = FlagNames(frozenset({"g"}), frozenset({"e"}), frozenset({"c"}))
    assert [names.of(kind) for kind in ("gate", "experiment", "config")] == [
        {"g"},
        {"e"},
        {"c"},
    ]
    with pytest.raises(ValueError, match="unknown flag kind 'gates'"):
        names.of("gates")


# -- once per run (flagport._runs) -------------------------------------------------------------
class Counting(FlaglessProvider):
    """Counts its starts and stops; ``fail`` makes the next start raise."""

    name = "counting"

    def __init__(self) -> None:
        super().__init__(ProviderOptions())
        self.starts = self.stops = 0
        self.fail = False

    def start(self) -> None:
        self.starts += 1
        if self.fail:
            raise GeneralError("the vendor is down")
        super().start()

    def shutdown(self, timeout: float = 5.0) -> None:
        self.stops += 1
        super().shutdown(timeout)


class Refined(Counting):
    """An override of an override: its ``super().start()`` is part of its own start."""

    def start(self) -> None:
        self.refined = True
        super().start()


def test_a_start_runs_once_until_shutdown_then_again() -> None:
    provider = Refined()
    provider.start()
    provider.start()
    assert (provider.starts, provider.status) == (1, ProviderStatus.READY)
    provider.shutdown(1)
    provider.shutdown(1)
    assert provider.stops == 2  # shutdown stays the provider's own (idempotent) business
    provider.start()
    assert (provider.starts, provider.status) == (2, ProviderStatus.READY)


def test_a_start_that_raised_is_not_repeated_but_reported_until_shutdown() -> None:
    provider = Counting()
    provider.fail = True
    with pytest.raises(GeneralError) as first:
        provider.start()
    with pytest.raises(GeneralError) as again:  # what the first one opened may still run
        provider.start()
    assert (again.value, provider.starts) == (first.value, 1)
    provider.status = ProviderStatus.READY  # ready since (a file fixed, a vendor back)
    provider.start()
    assert provider.starts == 1
    provider.shutdown(1)
    provider.fail = False
    provider.start()
    assert (provider.starts, provider.status) == (2, ProviderStatus.READY)


class Plain(Counting):
    """Overrides ``start`` only: the base ``shutdown`` ends its run."""

    shutdown = Provider.shutdown


def test_the_base_shutdown_ends_the_run_of_a_provider_that_does_not_override_it() -> None:
    provider = Plain()
    provider.start()
    provider.shutdown(1)
    provider.start()
    assert provider.starts == 2


class Loading(Counting):
    """Ready when its definitions load, unless shut down meanwhile (a vendor SDK's
    callback): the pattern of the bundled vendor providers."""

    def start(self) -> None:
        self.starts += 1
        if self.status is not ProviderStatus.SHUT_DOWN:
            self.status = ProviderStatus.READY


def test_a_start_after_shutdown_begins_not_ready_and_serves_again() -> None:
    provider = Loading()
    provider.start()
    provider.shutdown(1)
    assert provider.status is ProviderStatus.SHUT_DOWN
    provider.start()
    assert (provider.starts, provider.status) == (2, ProviderStatus.READY)


def test_a_start_after_shutdown_that_loads_nothing_yet_is_not_ready() -> None:
    provider = Counting()
    provider.start()
    provider.shutdown(1)
    provider.fail = True
    with pytest.raises(GeneralError):
        provider.start()
    assert provider.status is ProviderStatus.NOT_READY  # not SHUT_DOWN: this run may load


def test_concurrent_starts_run_one_and_the_others_wait_for_it() -> None:
    entered, release = threading.Event(), threading.Event()

    class Slow(Counting):
        def start(self) -> None:
            entered.set()
            assert release.wait(10)
            super().start()

    provider = Slow()
    first = threading.Thread(target=provider.start)
    first.start()
    assert entered.wait(10)
    second = threading.Thread(target=provider.start)
    second.start()
    second.join(0.2)
    assert second.is_alive()  # waits for the start running, rather than starting twice
    release.set()
    first.join(10)
    second.join(10)
    assert (provider.starts, provider.status) == (1, ProviderStatus.READY)


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs fork()")
def test_a_forked_child_starts_its_copy_again() -> None:
    provider = Counting()
    provider.start()
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: the parent's run is not the child's
        provider.start()
        os.write(write, str(provider.starts).encode())
        os._exit(0)
    os.close(write)
    os.waitpid(pid, 0)
    assert os.read(read, 16) == b"2"
    os.close(read)
    provider.start()
    assert provider.starts == 1
