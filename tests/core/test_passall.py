from __future__ import annotations

from flagport import Flagport, Reason, User
from flagport.providers.passall import PassAllProvider
from flagport.testing.conformance import ProviderConformance


class TestPassAllConformance(ProviderConformance):
    detects_unknown_flags = False

    def make_provider(self) -> PassAllProvider:
        return PassAllProvider(PassAllProvider.Options())  # type: ignore[return-value]


def test_every_gate_passes_statically() -> None:
    with Flagport(provider="passall") as fp:
        result = fp.get_gate(User(user_id="1"), "anything")
        assert (result.value, result.reason, result.provider) == (True, Reason.STATIC, "passall")


def test_gate_value_option_turns_every_gate_off() -> None:
    with Flagport(provider="passall", gate_value=False) as fp:
        assert fp.check_gate(User(user_id="1"), "anything") is False


def test_experiments_and_configs_serve_the_callers_default() -> None:
    with Flagport(provider="passall") as fp:
        user = User(user_id="1")
        exp = fp.get_experiment(user, "button_color", default={"color": "gray"})
        assert (exp.group, exp.in_experiment, exp.reason) == (None, False, Reason.STATIC)
        assert exp.get("color", "") == "gray"
        assert fp.get_config(user, "pricing").value == {}


def test_events_are_kept_in_memory_and_bounded() -> None:
    with Flagport(provider="passall", max_events=2) as fp:
        user = User(user_id="1", private={"ssn": "x"})
        for i in range(3):
            fp.log_event(user, f"e{i}", value=i)
        fp.flush()
        provider = fp.provider
        assert isinstance(provider, PassAllProvider)
        assert [e.name for e in provider.events] == ["e1", "e2"]
        assert provider.dropped_events == 1
        assert "ssn" not in provider.events[0].model_dump_json()


def test_results_kept_for_reuse_are_bounded() -> None:
    provider = PassAllProvider(PassAllProvider.Options())
    for i in range(20_000):
        assert provider.evaluate_gate(User(user_id="1"), f"gate-{i}").value is True
    assert len(provider._results) == 10_000
