"""pytest-flagport: force gates, experiment groups and configs in tests, for any provider.

Loaded through the ``pytest11`` entry point. Per test, the ``flagport`` fixture
points flagport's settings at the test provider (:func:`flagport.settings.override_settings`,
not the environment), builds a client from them, installs it as the process-wide
client and forces values for every client in the process; all of it is undone when
the test ends, pass or fail. Everything is per process, so each pytest-xdist worker
keeps its own state.
"""

from __future__ import annotations

from collections.abc import Callable, Generator, Iterator
from contextlib import ExitStack
from dataclasses import dataclass
from typing import Any, TypeVar

import pytest

from flagport import FlagNames, Flagport, FlagportError, set_client
from flagport.client import forget_exposures
from flagport.overrides import global_overrides
from flagport.plugins import register_plugin, unregister_plugin
from flagport.suggest import did_you_mean
from pytest_flagport.capture import Capture, Recorder
from pytest_flagport.client import FlagportFixture
from pytest_flagport.markers import MARKERS, marker_forcing, matrix_combinations, matrix_gates
from pytest_flagport.settings import DeadOverrides, PluginSettings, add_options

__all__ = ["flagport_fixture", "flags_fixture"]

#: The autouse fixture the matrix parametrizes (so tests need not name it).
MATRIX_FIXTURE = "_flagport_autouse"
#: ``user_properties`` key of a test's dead overrides: travels with the teardown report,
#: so pytest-xdist brings it from the workers to the controller unchanged.
DEAD_PROPERTY = "flagport_dead_overrides"


@dataclass
class _Session:
    settings: PluginSettings
    recorder: Recorder
    applied: ExitStack
    report: _DeadOverrideReport


_SESSION = pytest.StashKey[_Session]()
T = TypeVar("T")


def pytest_addoption(parser: pytest.Parser) -> None:
    add_options(parser)


def pytest_configure(config: pytest.Config) -> None:
    for line in MARKERS:
        config.addinivalue_line("markers", line)
    settings = PluginSettings.from_config(config)
    applied = ExitStack()
    if settings.explicit:
        # Clients the application builds from settings during collection and between
        # tests use the chosen provider too (the PASS_ALL_GATES switch works this way).
        applied.enter_context(settings.applied())
        try:
            # Cheap (starts nothing); reports a bad provider or option before any test.
            client = Flagport.from_settings(strict=True)
            if client.provider_name == "local" and client.settings.options.get("path"):
                # A flags file that is missing or has a mistake: said once, located,
                # not as a traceback in every test.
                with client:
                    client.names()  # starts the provider: strict, a failure raises
        except FlagportError as exc:
            applied.close()
            raise pytest.UsageError(f"flagport: {exc}") from None
    # Registered for the whole session: clients resolve observers when they start.
    recorder = Recorder()
    register_plugin(recorder)
    report = _DeadOverrideReport(settings.dead_overrides)
    config.pluginmanager.register(report, "flagport-dead-overrides")
    config.stash[_SESSION] = _Session(settings, recorder, applied, report)


def pytest_unconfigure(config: pytest.Config) -> None:
    session = config.stash.get(_SESSION, None)
    if session is None:
        return
    del config.stash[_SESSION]
    unregister_plugin(session.recorder)
    config.pluginmanager.unregister(session.report)
    session.applied.close()


def pytest_report_header(config: pytest.Config) -> str | None:
    session = config.stash.get(_SESSION, None)
    if session is None or not session.settings.explicit:
        return None
    s = session.settings
    parts = [f"provider {s.provider}", "strict" if s.strict else "not strict"]
    if s.pass_all_gates:
        parts.append("all gates pass")
    if s.known_source:
        parts.append(f"known flags from {s.known_source}")
    return "flagport: " + ", ".join(parts)


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    # A collection error names only the file: the message names the test.
    gates = _read_marker(matrix_gates, metafunc.definition, f"{metafunc.definition.nodeid}: ")
    if gates:
        combos, ids = matrix_combinations(gates)
        metafunc.parametrize(MATRIX_FIXTURE, combos, ids=ids, indirect=True)


@pytest.fixture(autouse=True)
def _flagport_autouse(request: pytest.FixtureRequest) -> None:
    """Give marked tests the ``flagport`` fixture, and force this matrix combination."""
    combination: dict[str, bool] | None = getattr(request, "param", None)
    if combination is None and request.node.get_closest_marker("flagport") is None:
        return
    client: FlagportFixture = request.getfixturevalue("flagport")
    for gate, value in (combination or {}).items():
        client.force_gate(gate, value)


@pytest.fixture(name="flagport")
def flagport_fixture(request: pytest.FixtureRequest) -> Iterator[FlagportFixture]:
    """A flagport client for the test; what it forces, every client in the process sees.

    Also the process-wide client (``flagport.check_gate``) for the test's duration,
    with ``flagport_*`` markers applied. Undone after the test, even when it fails.
    """
    session = request.config.stash[_SESSION]
    s = session.settings
    capture = Capture(known=s.known if s.strict else None)
    with s.applied():
        client = Flagport.from_settings()
        fixture = FlagportFixture(client, capture, s.known, s.known_source)
        previous = set_client(client)
        global_overrides.clear()
        forget_exposures()
        session.recorder.capture = capture
        try:
            _force_markers(request.node, fixture)
            yield fixture
        finally:
            session.recorder.capture = None
            global_overrides.clear()
            # A client the test made with flagport.setup() is shut down with the test's own.
            set_client(previous, retire=True)
            client.shutdown()
            dead = capture.dead_overrides()
            if dead and s.dead_overrides is not DeadOverrides.OFF:
                request.node.user_properties.append(
                    (DEAD_PROPERTY, [f"{kind} {name!r}" for kind, name in dead])
                )


@pytest.fixture(name="flags")
def flags_fixture(request: pytest.FixtureRequest) -> FlagportFixture:
    """The ``flagport`` fixture under a name that does not hide the ``flagport`` module."""
    client: FlagportFixture = request.getfixturevalue("flagport")
    return client


def _read_marker(read: Callable[[Any], T], node: Any, where: str = "") -> T:
    """``read(node)``; a malformed marker fails with its message alone, no traceback.

    :param where: put before the message.
    """
    try:
        return read(node)
    except ValueError as exc:
        message = where + str(exc)
    pytest.fail(message, pytrace=False)


def _force_markers(item: Any, client: FlagportFixture) -> None:
    forcing = _read_marker(marker_forcing, item)
    for name, on in forcing.gates.items():
        client.force_gate(name, on)
    for name, (group, value) in forcing.experiments.items():
        client.force_experiment(name, group, value)
    for name, config in forcing.configs.items():
        client.force_config(name, config)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item: pytest.Item) -> Generator[None, object, object]:
    result: object = yield
    session = item.config.stash.get(_SESSION, None)
    capture = session.recorder.capture if session else None
    if session is not None and capture is not None and capture.unknown:
        known = capture.known or FlagNames()
        lines = [
            f"flags evaluated that {session.settings.known_source} does not name "
            f"(strict mode; a typo, or a flag missing from that file):"
        ]
        for kind, name in capture.unknown:
            hint = did_you_mean(name, known.of(kind))
            lines.append(f"  {kind} {name!r}" + (f" ({hint})" if hint else ""))
        pytest.fail("\n".join(lines), pytrace=False)
    return result


class _DeadOverrideReport:
    """Collects dead overrides from teardown reports and reports them at the end."""

    def __init__(self, mode: DeadOverrides) -> None:
        self.mode = mode
        self.dead: list[tuple[str, str]] = []
        self._failed: set[str] = set()

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        # A test that failed may have stopped before evaluating what it forced.
        if report.failed:
            self._failed.add(report.nodeid)
        if report.when != "teardown":
            return
        if report.nodeid in self._failed:
            self._failed.discard(report.nodeid)
            return
        for key, value in report.user_properties:
            if key == DEAD_PROPERTY and isinstance(value, list):
                self.dead.extend((report.nodeid, str(entry)) for entry in value)

    def pytest_sessionfinish(self, session: pytest.Session) -> None:
        # Only the controller decides (an xdist worker's status is not the run's).
        is_worker = hasattr(session.config, "workerinput")
        failing = self.dead and self.mode is DeadOverrides.ERROR and not is_worker
        if failing and session.exitstatus == pytest.ExitCode.OK:
            session.exitstatus = pytest.ExitCode.TESTS_FAILED

    def pytest_terminal_summary(self, terminalreporter: Any) -> None:
        if not self.dead:
            return
        error = self.mode is DeadOverrides.ERROR
        terminalreporter.write_sep("=", "flagport: dead overrides", red=error, yellow=not error)
        terminalreporter.line(
            f"{len(self.dead)} forced flag(s) never evaluated by their test (the override "
            f"does nothing: remove it, or fix the flag name):"
        )
        for nodeid, entry in self.dead:
            terminalreporter.line(f"  {entry} in {nodeid}")
        if error:
            terminalreporter.line("the run fails: flagport_dead_overrides is 'error'", red=True)
