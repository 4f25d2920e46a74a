from __future__ import annotations

import gc
from collections.abc import Iterator
from pathlib import Path

import pytest
from otel_memory import Otel
from scenario_flags import SCENARIO_FLAGS_YAML

import flagport_opentelemetry
from flagport import Flagport
from flagport._lifecycle import live_clients

# The common scenario, plus a gate for everyone and one that only a rule can open.
FLAGS_YAML = SCENARIO_FLAGS_YAML.replace(
    "gates:\n",
    "gates:\n  everyone: {}\n  us_only:\n    rules:\n      - {id: us, when: {country: US}}\n",
)


@pytest.fixture
def otel() -> Iterator[Otel]:
    sdk = Otel()
    yield sdk
    flagport_opentelemetry.disable()
    sdk.meter_provider.shutdown()


@pytest.fixture(autouse=True)
def _no_clients_from_earlier_tests() -> None:
    # feature_flag.version is read from every live client serving the provider: a
    # client another test left open (same worker) would make the versions disagree.
    gc.collect()
    for left_open in live_clients():
        left_open.shutdown(1.0)


@pytest.fixture(autouse=True)
def _telemetry_off(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    for var in ("FLAGPORT_OPENTELEMETRY", "FLAGPORT_OPENTELEMETRY_INCLUDE_VALUE"):
        monkeypatch.delenv(var, raising=False)
    flagport_opentelemetry.disable()
    yield
    flagport_opentelemetry.disable()


@pytest.fixture
def flags(tmp_path: Path) -> Path:
    path = tmp_path / "flags.yaml"
    path.write_text(FLAGS_YAML)
    return path


@pytest.fixture
def client(flags: Path) -> Iterator[Flagport]:
    """Built after the ``otel`` fixture enabled telemetry (tests ask for it first)."""
    with Flagport(provider="local", path=str(flags)) as fp:
        yield fp
