"""A small real provider for migration tests: ``table``.

It implements the Provider ABC over definitions given as options, with knobs that
make it slow, blocking or failing on purpose, so the migration provider's handling
of a bad secondary is exercised against a real provider, not a mock.
"""

from __future__ import annotations

import hashlib
import threading
import time
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any

import pytest
from pydantic import Field

from flagport import hookimpl
from flagport.errors import FlagNotFoundError, GeneralError
from flagport.plugins import get_plugin_manager, register_plugin, unregister_plugin
from flagport.provider import FlagNames, Provider, ProviderOptions
from flagport.reasons import Reason
from flagport.results import ConfigResult, ExperimentResult, GateResult, freeze

if TYPE_CHECKING:
    from flagport.events.model import Event
    from flagport.user import User


class TableOptions(ProviderOptions):
    gates: dict[str, bool | list[str]] = Field(
        default_factory=dict, description="A bool for everyone, or the user ids that pass."
    )
    experiments: dict[str, dict[str, Any]] = Field(
        default_factory=dict,
        description="{'salt': str, 'groups': {name: value}}: equal split by md5(salt.uid).",
    )
    configs: dict[str, dict[str, Any]] = Field(default_factory=dict)
    label: str = "table"


class TableProvider(Provider):
    """Definitions from options; ``delay_s``, ``block`` and ``fail`` are set by tests."""

    name = "table"
    Options = TableOptions
    options: TableOptions

    def __init__(self, options: TableOptions) -> None:
        super().__init__(options)
        self.events: list[Event] = []
        self.calls = 0
        self.expose_flags: list[bool] = []
        self.delay_s = 0.0
        self.fail = False
        self.block = False
        self.entered = threading.Event()
        self.release = threading.Event()
        self.release_timed_out = False

    def _enter(self, name: str, expose: bool) -> None:
        self.calls += 1
        self.expose_flags.append(expose)
        if self.fail:
            raise GeneralError(f"{self.options.label} is down")
        if self.delay_s:
            time.sleep(self.delay_s)
        if self.block:
            self.entered.set()
            if not self.release.wait(10):
                self.release_timed_out = True

    def evaluate_gate(self, user: User, name: str, *, expose: bool = True) -> GateResult:
        self._enter(name, expose)
        if name not in self.options.gates:
            raise FlagNotFoundError(name)
        rule = self.options.gates[name]
        value = rule if isinstance(rule, bool) else user.user_id in rule
        return GateResult(name=name, value=value, reason=Reason.STATIC, provider=self.options.label)

    def evaluate_experiment(
        self, user: User, name: str, *, expose: bool = True
    ) -> ExperimentResult:
        self._enter(name, expose)
        if name not in self.options.experiments:
            raise FlagNotFoundError(name)
        spec = self.options.experiments[name]
        groups = list(spec["groups"])
        digest = hashlib.md5(f"{spec['salt']}.{user.user_id}".encode()).digest()
        group = groups[int.from_bytes(digest[:8], "big") % len(groups)]
        return ExperimentResult(
            name=name,
            group=group,
            value=freeze(spec["groups"][group]),
            reason=Reason.SPLIT,
            provider=self.options.label,
            in_experiment=True,
        )

    def evaluate_config(self, user: User, name: str, *, expose: bool = True) -> ConfigResult:
        self._enter(name, expose)
        if name not in self.options.configs:
            raise FlagNotFoundError(name)
        return ConfigResult(
            name=name, value=freeze(self.options.configs[name]), provider=self.options.label
        )

    def names(self) -> FlagNames:
        o = self.options
        return FlagNames(frozenset(o.gates), frozenset(o.experiments), frozenset(o.configs))

    def log_event(self, event: Event) -> None:
        self.events.append(event)


class _Plugin:
    @hookimpl
    def flagport_register_providers(self, register: Callable[[type[Provider]], None]) -> None:
        register(TableProvider)


_PLUGIN = _Plugin()


@pytest.fixture(autouse=True)
def table_provider() -> Iterator[type[TableProvider]]:
    """Make ``provider = "table"`` selectable for the duration of a test."""
    pm = get_plugin_manager()
    registered = pm.is_registered(_PLUGIN)
    if not registered:
        register_plugin(_PLUGIN, name="migration-tests-table")
    yield TableProvider
    if not registered:
        unregister_plugin(_PLUGIN)
