"""OpenFeature's PROVIDER_CONFIGURATION_CHANGED, both ways: emitted by the bridge when
flagport's provider reloads, and heard by flagport from an OpenFeature provider."""

from __future__ import annotations

import logging
import os
import queue
import threading
from pathlib import Path

import pytest
from openfeature import api
from openfeature.evaluation_context import EvaluationContext
from openfeature.event import EventDetails, ProviderEvent, ProviderEventDetails
from openfeature.provider.in_memory_provider import InMemoryFlag, InMemoryProvider

from flagport import DefinitionsChanged, ErrorCode, Flagport, User
from flagport_openfeature import FlagportProvider, OpenFeatureProvider

WAIT = 10.0


def gate(percentage: int) -> str:
    return f"gates:\n  new_checkout:\n    rules: [{{id: all, pass_percentage: {percentage}}}]\n"


def test_a_rewritten_flags_file_emits_configuration_changed(tmp_path: Path) -> None:
    path = tmp_path / "flags.yaml"
    path.write_text(gate(0))
    heard: queue.Queue[EventDetails] = queue.Queue()
    api.add_handler(ProviderEvent.PROVIDER_CONFIGURATION_CHANGED, heard.put)
    try:
        api.set_provider_and_wait(
            FlagportProvider(
                provider="local", path=str(path), reload_interval=0.05, reload_settle=0
            )
        )
        client = api.get_client()
        assert client.get_boolean_value("new_checkout", True) is False
        tmp = tmp_path / "flags.tmp"
        tmp.write_text(gate(100))
        os.replace(tmp, path)
        details = heard.get(timeout=WAIT)
        assert details.flags_changed == ["new_checkout"]
        assert details.provider_name == "flagport:local"
        assert client.get_boolean_value("new_checkout", False) is True
    finally:
        api.remove_handler(ProviderEvent.PROVIDER_CONFIGURATION_CHANGED, heard.put)
    assert heard.empty()


def test_after_openfeature_shuts_the_bridge_down_nothing_is_emitted(tmp_path: Path) -> None:
    path = tmp_path / "flags.yaml"
    path.write_text(gate(0))
    emitted: queue.Queue[tuple[ProviderEvent, ProviderEventDetails]] = queue.Queue()
    with Flagport(provider="local", path=str(path), watch=False) as fp:
        bridge = FlagportProvider(fp, shutdown_client=False)
        # What OpenFeature's registry does with a provider: attach, initialize, shut down.
        bridge.attach(lambda provider, event, details: emitted.put((event, details)))
        bridge.initialize(EvaluationContext())
        path.write_text(gate(100))
        assert fp.provider.reload()  # type: ignore[attr-defined]
        event, details = emitted.get(timeout=WAIT)
        assert event is ProviderEvent.PROVIDER_CONFIGURATION_CHANGED
        assert details.flags_changed == ["new_checkout"]
        bridge.shutdown()  # the client lives on (shutdown_client=False)
        probe: queue.Queue[DefinitionsChanged] = queue.Queue()
        fp.on_change(probe.put)
        path.write_text(gate(50))
        assert fp.provider.reload()  # type: ignore[attr-defined]
        probe.get(timeout=WAIT)  # delivered after anything the bridge could have sent
    assert emitted.empty()


def test_an_openfeature_providers_change_is_a_flagport_change() -> None:
    of = InMemoryProvider({"new_checkout": InMemoryFlag("on", {"on": True, "off": False})})
    heard: queue.Queue[DefinitionsChanged] = queue.Queue()
    with Flagport(OpenFeatureProvider.from_options(of_provider=of)) as fp:
        fp.on_change(heard.put)
        assert fp.check_gate(User(user_id="1"), "new_checkout") is True
        of.emit_provider_configuration_changed(ProviderEventDetails(flags_changed=["a", "b"]))
        assert heard.get(timeout=WAIT) == DefinitionsChanged("openfeature", frozenset({"a", "b"}))
        of.emit_provider_configuration_changed(ProviderEventDetails())
        assert heard.get(timeout=WAIT).flags is None


def test_in_domain_mode_the_domains_provider_announces_until_shutdown() -> None:
    of = InMemoryProvider({"new_checkout": InMemoryFlag("on", {"on": True, "off": False})})
    api.set_provider_and_wait(of, "app")  # the application's provider for the domain
    heard: queue.Queue[DefinitionsChanged] = queue.Queue()
    fp = Flagport(OpenFeatureProvider.from_options(domain="app"))
    fp.on_change(heard.put)
    assert fp.check_gate(User(user_id="1"), "new_checkout") is True
    of.emit_provider_configuration_changed(ProviderEventDetails(flags_changed=["new_checkout"]))
    assert heard.get(timeout=WAIT) == DefinitionsChanged("openfeature", frozenset({"new_checkout"}))
    fp.shutdown()
    of.emit_provider_configuration_changed(ProviderEventDetails(flags_changed=["x"]))
    assert heard.empty()


def test_a_domain_client_shut_down_after_the_openfeature_api_is_quiet(
    caplog: pytest.LogCaptureFixture,
) -> None:
    of = InMemoryProvider({"new_checkout": InMemoryFlag("on", {"on": True, "off": False})})
    api.set_provider_and_wait(of, "app")
    fp = Flagport(OpenFeatureProvider.from_options(domain="app"))
    assert fp.check_gate(User(user_id="1"), "new_checkout") is True
    api.shutdown()  # the application's shutdown ran first: its handlers are gone
    fp.shutdown()
    assert fp.closed
    assert [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING] == []


# -- the OpenFeature provider's changes follow flagport's rule of what is a change ------------
def test_a_change_within_start_is_what_the_application_starts_with() -> None:
    of = InMemoryProvider({"new_checkout": InMemoryFlag("on", {"on": True, "off": False})})

    class ChangeWithinStart(OpenFeatureProvider):
        def start(self) -> None:
            super().start()  # initialized: the OpenFeature provider serves
            of.emit_provider_configuration_changed(ProviderEventDetails(flags_changed=["early"]))

    heard: queue.Queue[DefinitionsChanged] = queue.Queue()
    with Flagport(ChangeWithinStart.from_options(of_provider=of)) as fp:
        fp.on_change(heard.put)
        assert fp.check_gate(User(user_id="1"), "new_checkout") is True
        of.emit_provider_configuration_changed(ProviderEventDetails(flags_changed=["later"]))
        # Had the change within start() been announced, "early" would come first.
        assert heard.get(timeout=WAIT) == DefinitionsChanged("openfeature", frozenset({"later"}))
    assert heard.empty()


class SlowToInitialize(InMemoryProvider):
    """An in-memory OpenFeature provider whose initialize waits until the test lets it."""

    def __init__(self) -> None:
        super().__init__({"new_checkout": InMemoryFlag("on", {"on": True, "off": False})})
        self.release = threading.Event()

    def initialize(self, evaluation_context: EvaluationContext) -> None:
        assert self.release.wait(WAIT)


def test_ready_after_a_start_that_gave_up_waiting_names_every_flag() -> None:
    of = SlowToInitialize()
    provider = OpenFeatureProvider.from_options(
        of_provider=of, init_timeout=0.05, gates=["new_checkout"], configs=["pricing"]
    )
    heard: queue.Queue[DefinitionsChanged] = queue.Queue()
    with Flagport(provider) as fp:
        fp.on_change(heard.put)
        user = User(user_id="1")
        assert fp.get_gate(user, "new_checkout").error_code is ErrorCode.PROVIDER_NOT_READY
        of.release.set()
        # The application was served defaults: now every flag it knows may answer otherwise.
        change = heard.get(timeout=WAIT)
        assert change == DefinitionsChanged("openfeature", frozenset({"new_checkout", "pricing"}))
        assert fp.check_gate(user, "new_checkout") is True
        of.emit_provider_configuration_changed(ProviderEventDetails(flags_changed=["pricing"]))
        assert heard.get(timeout=WAIT) == DefinitionsChanged("openfeature", frozenset({"pricing"}))
    assert heard.empty()
