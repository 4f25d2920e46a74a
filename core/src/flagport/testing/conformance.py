"""The provider conformance suite: the same behaviour checked for every provider.

Subclass :class:`ProviderConformance` in a test module (name the subclass
``Test...``) and implement :meth:`~ProviderConformance.make_provider`; pytest then
collects every scenario below for your provider::

    from flagport.testing.conformance import ProviderConformance

    class TestMyProvider(ProviderConformance):
        known_gate = "new_checkout"
        known_experiment = "button_color"
        known_config = "pricing"

        def make_provider(self):
            return MyProvider.from_options(bootstrap=...)

The suite checks result types and fields, defaults and error codes for unknown
flags, overrides winning over the provider, never-raise behaviour, strict mode
raising, events being accepted, ``evaluate_all``, idempotent shutdown, and a start after
shutdown serving again.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from typing import Any, ClassVar

import pytest

from flagport.client import Flagport
from flagport.errors import FlagNotFoundError, FlagportError
from flagport.provider import Provider, ProviderStatus
from flagport.reasons import ErrorCode, Reason
from flagport.results import ConfigResult, ExperimentResult, GateResult
from flagport.user import User

__all__ = ["ProviderConformance"]

UNKNOWN = "flagport_conformance_no_such_flag"


class ProviderConformance:
    """Behavioural tests every provider must pass.

    :cvar known_gate: a gate the provider's definitions contain.
    :cvar known_experiment: an experiment the definitions contain.
    :cvar known_config: a config the definitions contain.
    :cvar detects_unknown_flags: False for providers that accept every name
        (``passall``); the suite then checks that unknown names are served statically.
    :cvar user: the user evaluations are made for.
    :cvar result_provider: the ``provider`` results carry; ``None`` means the provider's
        own name (a composite such as ``migration`` names the side that served).
    """

    known_gate: ClassVar[str] = "new_checkout"
    known_experiment: ClassVar[str] = "button_color"
    known_config: ClassVar[str] = "pricing"
    detects_unknown_flags: ClassVar[bool] = True
    user: ClassVar[User] = User(user_id="conformance-1", country="US", custom={"plan": "pro"})
    result_provider: ClassVar[str | None] = None

    def make_provider(self) -> Provider:
        """Return a fresh, unstarted provider with the known flags defined."""
        raise NotImplementedError("subclasses of ProviderConformance implement make_provider()")

    @pytest.fixture
    def client(self) -> Iterator[Flagport]:
        client = Flagport(self.make_provider(), strict=False)
        yield client
        client.shutdown(timeout=5)

    @pytest.fixture
    def strict_client(self) -> Iterator[Flagport]:
        client = Flagport(self.make_provider(), strict=True)
        yield client
        client.shutdown(timeout=5)

    # -- result types ------------------------------------------------------------------
    def test_check_gate_returns_bool(self, client: Flagport) -> None:
        assert type(client.check_gate(self.user, self.known_gate)) is bool

    def test_get_gate_agrees_with_check_gate(self, client: Flagport) -> None:
        result = client.get_gate(self.user, self.known_gate)
        assert isinstance(result, GateResult)
        assert result.name == self.known_gate
        assert result.value == client.check_gate(self.user, self.known_gate)
        assert result.error_code is None
        assert result.reason is not Reason.ERROR
        assert result.provider == (self.result_provider or client.provider.name)

    def test_experiment_result_fields(self, client: Flagport) -> None:
        result = client.get_experiment(self.user, self.known_experiment)
        assert isinstance(result, ExperimentResult)
        assert result.name == self.known_experiment
        assert result.error_code is None
        assert isinstance(result.value, dict)
        if result.in_experiment:
            assert result.group is not None

    def test_config_result_fields(self, client: Flagport) -> None:
        result = client.get_config(self.user, self.known_config)
        assert isinstance(result, ConfigResult)
        assert result.name == self.known_config
        assert result.error_code is None
        assert isinstance(result.value, dict)

    def test_results_are_immutable(self, client: Flagport) -> None:
        result = client.get_config(self.user, self.known_config)
        with pytest.raises((AttributeError, TypeError)):
            result.value = {}  # type: ignore[misc]
        with pytest.raises(TypeError):
            result.value["injected"] = 1  # type: ignore[index]

    def test_plain_dict_user_is_accepted(self, client: Flagport) -> None:
        as_dict: dict[str, Any] = self.user.model_dump(exclude_defaults=True)
        assert client.check_gate(as_dict, self.known_gate) == client.check_gate(
            self.user, self.known_gate
        )

    # -- unknown flags -------------------------------------------------------------------
    def test_unknown_gate_serves_default(self, client: Flagport) -> None:
        result = client.get_gate(self.user, UNKNOWN)
        if self.detects_unknown_flags:
            assert result.value is False
            assert result.reason is Reason.ERROR
            assert result.error_code is ErrorCode.FLAG_NOT_FOUND
            assert client.check_gate(self.user, UNKNOWN) is False
            assert client.check_gate(self.user, UNKNOWN, default=True) is True
        else:
            assert result.reason is Reason.STATIC
            assert result.error_code is None

    def test_unknown_experiment_and_config_serve_caller_default(self, client: Flagport) -> None:
        exp = client.get_experiment(self.user, UNKNOWN, default={"color": "gray"})
        cfg = client.get_config(self.user, UNKNOWN, default={"discount": 0})
        assert exp.value == {"color": "gray"}
        assert exp.get("color", "") == "gray"
        assert cfg.value == {"discount": 0}
        assert exp.in_experiment is False
        if self.detects_unknown_flags:
            assert exp.error_code is ErrorCode.FLAG_NOT_FOUND
            assert cfg.error_code is ErrorCode.FLAG_NOT_FOUND
            assert exp.group is None

    def test_strict_mode_raises_on_unknown_flag(self, strict_client: Flagport) -> None:
        if not self.detects_unknown_flags:
            assert strict_client.check_gate(self.user, UNKNOWN) in {True, False}
            return
        with pytest.raises(FlagNotFoundError):
            strict_client.check_gate(self.user, UNKNOWN)
        with pytest.raises(FlagNotFoundError):
            strict_client.get_experiment(self.user, UNKNOWN)
        with pytest.raises(FlagportError):
            strict_client.get_config(self.user, UNKNOWN)

    def test_invalid_user_never_raises(self, client: Flagport) -> None:
        result = client.get_gate(42, self.known_gate)  # type: ignore[arg-type]
        assert result.value is False
        assert result.error_code is ErrorCode.INVALID_CONTEXT

    # -- overrides -------------------------------------------------------------------------
    def test_overrides_win_and_clear(self, client: Flagport) -> None:
        before = client.check_gate(self.user, self.known_gate)
        client.override_gate(self.known_gate, not before)
        client.override_experiment(self.known_experiment, group="forced", value={"color": "pink"})
        client.override_config(self.known_config, {"discount": 0.5})
        assert client.check_gate(self.user, self.known_gate) is (not before)
        assert client.get_gate(self.user, self.known_gate).reason is Reason.OVERRIDE
        exp = client.get_experiment(self.user, self.known_experiment)
        assert (exp.group, exp.get("color"), exp.reason) == ("forced", "pink", Reason.OVERRIDE)
        assert client.get_config(self.user, self.known_config).get("discount", 0.0) == 0.5
        client.clear_overrides()
        assert client.check_gate(self.user, self.known_gate) is before

    def test_override_for_one_user_only(self, client: Flagport) -> None:
        other = User(user_id="conformance-2", country="US", custom={"plan": "pro"})
        mine = client.check_gate(self.user, self.known_gate)
        theirs = client.check_gate(other, self.known_gate)
        client.override_gate(self.known_gate, not mine, user_id=self.user.user_id)
        assert client.check_gate(self.user, self.known_gate) is (not mine)
        assert client.check_gate(other, self.known_gate) is theirs

    # -- everything else -----------------------------------------------------------------------
    def test_evaluate_all_covers_known_flags(self, client: Flagport) -> None:
        everything = client.evaluate_all(self.user)
        if self.detects_unknown_flags:
            assert self.known_gate in everything.gates
            assert self.known_experiment in everything.experiments
            assert self.known_config in everything.configs
            assert everything.gates[self.known_gate].value == client.check_gate(
                self.user, self.known_gate
            )
        assert isinstance(everything.to_dict(), dict)

    def test_log_event_is_accepted(self, client: Flagport) -> None:
        client.log_event(self.user, "purchase", 9.99, {"sku": "A1"})
        client.log_event(self.user, "signup")
        client.flush(timeout=5)

    def test_concurrent_evaluations_agree(self, client: Flagport) -> None:
        expected = client.check_gate(self.user, self.known_gate)
        failures: list[bool] = []

        def work() -> None:
            for _ in range(200):
                if client.check_gate(self.user, self.known_gate) is not expected:
                    failures.append(True)

        threads = [threading.Thread(target=work) for _ in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=30)
        assert not failures

    def test_shutdown_is_idempotent_and_then_serves_defaults(self) -> None:
        client = Flagport(self.make_provider(), strict=False)
        client.check_gate(self.user, self.known_gate)
        client.shutdown(timeout=5)
        client.shutdown(timeout=5)
        result = client.get_gate(self.user, self.known_gate)
        assert result.value is False
        assert result.error_code is ErrorCode.PROVIDER_NOT_READY

    def test_a_start_after_shutdown_serves_again(self) -> None:
        provider = self.make_provider()
        provider.start()
        served = provider.check_gate(self.user, self.known_gate)
        provider.shutdown(5)
        assert provider.status is ProviderStatus.SHUT_DOWN
        provider.start()  # a fresh run: it loads, and serves what it served before
        try:
            assert _status_once_ready(provider) is ProviderStatus.READY
            assert provider.check_gate(self.user, self.known_gate) is served
        finally:
            provider.shutdown(5)


def _status_once_ready(provider: Provider, timeout: float = 5.0) -> ProviderStatus:
    """The provider's status once ready, or when ``timeout`` seconds passed."""
    deadline = time.monotonic() + timeout
    while provider.status is not ProviderStatus.READY and time.monotonic() < deadline:
        time.sleep(0.02)
    return provider.status
