"""Comparison windows: their share of the time, their timing, rate changes."""

from __future__ import annotations

import random
import threading
import time

from flagport.migration.sampling import WindowSampler


class Recorder:
    def __init__(self) -> None:
        self.switches: list[tuple[float, bool]] = []
        self.lock = threading.Lock()

    def __call__(self, comparing: bool) -> None:
        with self.lock:
            self.switches.append((time.monotonic(), comparing))

    def open_time(self, since: float, until: float) -> float:
        total, opened = 0.0, None
        for at, comparing in self.switches:
            if comparing and opened is None:
                opened = max(at, since)
            elif not comparing and opened is not None:
                total += max(0.0, min(at, until) - opened)
                opened = None
        return total


def test_windows_cover_the_rate_of_the_time_at_random_offsets() -> None:
    recorder = Recorder()
    sampler = WindowSampler(0.02, recorder, random.Random(3).random)
    start = time.monotonic()
    sampler.set_rate(0.3)
    time.sleep(1.5)
    sampler.stop()
    share = recorder.open_time(start, time.monotonic()) / (time.monotonic() - start)
    assert 0.2 < share < 0.4
    assert sampler.windows >= 40
    opens = [at for at, comparing in recorder.switches if comparing]
    phases = {round(((at - start) % 0.02) * 1000) for at in opens}
    assert len(phases) > 5  # not one fixed moment of the period


def test_rates_zero_and_one_switch_once_and_wait() -> None:
    recorder = Recorder()
    sampler = WindowSampler(0.01, recorder)
    sampler.set_rate(0.5)
    time.sleep(0.1)
    sampler.set_rate(1.0)
    time.sleep(0.05)
    assert recorder.switches[-1][1] is True
    count = len(recorder.switches)
    time.sleep(0.1)
    assert len(recorder.switches) == count  # nothing to do at rate 1
    sampler.set_rate(0.0)
    time.sleep(0.05)
    assert recorder.switches[-1][1] is False
    sampler.stop()
    assert not sampler.running


def test_a_failing_switch_does_not_stop_the_windows() -> None:
    calls = []

    def switch(comparing: bool) -> None:
        calls.append(comparing)
        raise RuntimeError("boom")

    sampler = WindowSampler(0.01, switch)
    sampler.set_rate(0.5)
    time.sleep(0.2)
    sampler.stop()
    assert calls.count(True) >= 5
