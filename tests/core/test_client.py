from __future__ import annotations

import logging
import multiprocessing
import os
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hostile_values import deep, self_referencing

import flagport
from flagport import (
    ConfigurationError,
    ErrorCode,
    Flagport,
    FlagportError,
    GeneralError,
    Reason,
    User,
    hookimpl,
    plugins,
)
from flagport.provider import Provider
from flagport.providers.passall import PassAllProvider
from flagport.results import ConfigResult, ExperimentResult, GateResult

USER = User(user_id="42", email="a@b.c", country="US", custom={"plan": "pro"})


class Exploding(Provider):
    """A provider whose every evaluation fails like a broken vendor SDK would."""

    name = "exploding"

    def evaluate_gate(self, user: User, name: str, *, expose: bool = True) -> GateResult:
        raise RuntimeError("vendor exploded")

    def evaluate_experiment(
        self, user: User, name: str, *, expose: bool = True
    ) -> ExperimentResult:
        raise RuntimeError("vendor exploded")

    def evaluate_config(self, user: User, name: str, *, expose: bool = True) -> ConfigResult:
        raise RuntimeError("vendor exploded")

    def log_event(self, event: Any) -> None:
        raise RuntimeError("vendor exploded")


def exploding(strict: bool = False) -> Flagport:
    return Flagport(Exploding(Exploding.Options()), strict=strict)


def test_contract_calls_on_passall() -> None:
    with Flagport(provider="passall") as fp:
        assert fp.check_gate(USER, "new_checkout") is True
        assert isinstance(fp.get_gate(USER, "new_checkout"), GateResult)
        exp = fp.get_experiment(USER, "button_color")
        assert (exp.group, exp.value, exp.get("color", "gray")) == (None, {}, "gray")
        assert fp.get_config(USER, "pricing").get("discount", 0.0) == 0.0
        fp.log_event(USER, "purchase", value=9.99, metadata={"sku": "A1"})
        assert fp.evaluate_all(USER).to_dict() == {"gates": {}, "experiments": {}, "configs": {}}
        fp.override_gate("new_checkout", False)
        fp.override_experiment("button_color", group="blue", value={"color": "blue"})
        fp.override_config("pricing", {"discount": 0.2})
        assert fp.check_gate(USER, "new_checkout") is False
        assert fp.get_experiment(USER, "button_color").get("color") == "blue"
        assert fp.get_config(USER, "pricing").get("discount", 0.0) == 0.2
        everything = fp.evaluate_all(USER)
        assert set(everything.gates) == {"new_checkout"}
        fp.clear_overrides()
        assert fp.check_gate(USER, "new_checkout") is True
        fp.flush()
    fp.shutdown()


def test_failures_serve_defaults_with_error_codes(caplog: pytest.LogCaptureFixture) -> None:
    fp = exploding()
    with caplog.at_level(logging.WARNING, logger="flagport"):
        assert fp.check_gate(USER, "g") is False
        assert fp.check_gate(USER, "g", default=True) is True
        gate = fp.get_gate(USER, "g")
        exp = fp.get_experiment(USER, "e", default={"color": "gray"})
        cfg = fp.get_config(USER, "c")
        fp.log_event(USER, "purchase")
    assert (gate.value, gate.reason, gate.error_code) == (False, Reason.ERROR, ErrorCode.GENERAL)
    assert "vendor exploded" in (gate.error_message or "")
    assert (exp.group, exp.value, exp.error_code) == (None, {"color": "gray"}, ErrorCode.GENERAL)
    assert (cfg.value, cfg.reason) == ({}, Reason.ERROR)
    # logged once per flag, not once per call
    assert sum("'g' served its default" in r.getMessage() for r in caplog.records) == 1


def test_strict_wraps_foreign_exceptions() -> None:
    fp = exploding(strict=True)
    with pytest.raises(GeneralError, match="vendor exploded") as info:
        fp.check_gate(USER, "g")
    assert isinstance(info.value, FlagportError)
    assert isinstance(info.value.__cause__, RuntimeError)


def test_invalid_user_is_invalid_context() -> None:
    with Flagport(provider="passall") as fp:
        assert fp.get_config(["not", "a", "user"], "c").error_code is ErrorCode.INVALID_CONTEXT  # type: ignore[arg-type]
    with (
        Flagport(provider="passall", strict=True) as fp,
        pytest.raises(flagport.InvalidContextError),
    ):
        fp.check_gate("42", "g")  # type: ignore[arg-type]


def test_dict_users_become_users_with_custom_attributes() -> None:
    with Flagport(provider="passall") as fp:
        fp.override_gate("g", False, user_id="7")
        assert fp.check_gate({"user_id": 7, "plan": "pro"}, "g") is False
        assert fp.check_gate({"user_id": "8"}, "g") is True


class Recorder:
    def __init__(self) -> None:
        self.evaluations: list[tuple[str, str]] = []
        self.events: list[str] = []
        self.errors: list[str] = []

    @hookimpl
    def flagport_after_evaluation(self, user: User, result: Any, kind: str) -> None:
        self.evaluations.append((kind, result.name))

    @hookimpl
    def flagport_on_event(self, event: Any) -> None:
        self.events.append(event.name)

    @hookimpl
    def flagport_on_provider_error(self, provider: str, flag: str | None, error: Exception) -> None:
        self.errors.append(f"{provider}:{flag}")


@pytest.fixture
def recorder() -> Iterator[Recorder]:
    rec = Recorder()
    plugins.register_plugin(rec, name="recorder")
    yield rec
    plugins.unregister_plugin(rec)


def test_observer_hooks_see_evaluations_events_and_errors(recorder: Recorder) -> None:
    fp = exploding()
    fp.check_gate(USER, "g")
    with Flagport(provider="passall") as ok:
        ok.check_gate(USER, "g1")
        ok.get_experiment(USER, "e1")
        ok.log_event(USER, "purchase")
    # failures are observed too, with the default they served
    assert recorder.evaluations == [("gate", "g"), ("gate", "g1"), ("experiment", "e1")]
    assert recorder.events == ["purchase"]
    assert recorder.errors == ["exploding:g"]


def test_observers_are_resolved_once_at_start() -> None:
    hook = plugins.get_plugin_manager().hook
    with Flagport(provider="passall") as fp:
        fp.check_gate(USER, "g")
        assert (fp._observers.after_evaluation is None) == (
            not hook.flagport_after_evaluation.get_hookimpls()
        )
        assert (fp._observers.on_event is None) == (not hook.flagport_on_event.get_hookimpls())


def test_exposures_are_logged_once_per_unit_and_group() -> None:
    seen: list[Any] = []
    with Flagport(provider="passall", events={"sinks": ["provider", seen.append]}) as fp:
        fp.override_experiment("button_color", group="blue", value={"color": "blue"})
        for _ in range(3):
            fp.get_experiment(USER, "button_color")
        fp.get_experiment(USER, "button_color", expose=False)
        fp.get_experiment(User(user_id="43"), "button_color")
        fp.log_exposure(USER, "button_color")
        assert fp.flush(timeout=10)
        provider = fp.provider
        assert isinstance(provider, PassAllProvider)
        assert [(e.user.user_id, e.group, e.metadata.get("manual")) for e in seen] == [
            ("42", "blue", None),
            ("43", "blue", None),
            ("42", "blue", True),
        ]
        # exposures of forced values stay out of the vendor's analysis
        assert provider.events == []
        assert fp.stats()["exposures"]["logged"] == 3


def test_module_level_client(monkeypatch: pytest.MonkeyPatch) -> None:
    previous = flagport.set_client(None)
    try:
        monkeypatch.setenv("FLAGPORT_PROVIDER", "passall")
        client = flagport.get_client()
        assert client is flagport.get_client()
        assert flagport.check_gate(USER, "g") is True
        assert flagport.get_gate(USER, "g").value is True
        assert flagport.get_experiment(USER, "e").group is None
        assert flagport.get_config(USER, "c").value == {}
        flagport.log_event(USER, "purchase", 1.0)
        assert flagport.evaluate_all(USER).gates == {}
        installed = flagport.setup(provider="passall", gate_value=False)
        assert flagport.get_client() is installed
        assert flagport.check_gate(USER, "g") is False
        flagport.flush()
        flagport.shutdown()
        assert flagport.set_client(None) is None
    finally:
        flagport.set_client(previous)


def _child(fp: Flagport, queue: Any) -> None:
    provider = fp.provider
    queue.put(
        (
            fp.check_gate(USER, "g"),
            getattr(provider, "built_in", "child"),
            provider.status.value,
            os.getpid(),
        )
    )
    fp.shutdown()


def test_forked_child_builds_its_own_provider() -> None:
    fp = Flagport(provider="passall")
    assert fp.check_gate(USER, "g") is True
    fp.provider.built_in = "parent"  # type: ignore[attr-defined]
    ctx = multiprocessing.get_context("fork")
    queue = ctx.Queue()
    proc = ctx.Process(target=_child, args=(fp, queue))
    proc.start()
    value, built_in, status, pid = queue.get(timeout=20)
    proc.join(timeout=20)
    # the child's provider is a new object, not the parent's copy
    assert (value, built_in, status) == (True, "child", "READY")
    assert pid != os.getpid()
    assert proc.exitcode == 0
    assert fp.check_gate(USER, "g") is True
    fp.shutdown()


# -- never raises (issue 12 §6) ---------------------------------------------------------

INLINE_FLAGS = {
    "gates": {"new_checkout": {"rules": [{"id": "us", "when": {"country": "US"}}]}},
    "configs": {"pricing": {"default": {"discount": 0.1}}},
}


def test_evaluate_all_says_when_the_provider_is_not_ready(tmp_path: Path) -> None:
    # A flags file that failed to load: evaluate_all answered empty mappings with no
    # error, which a caller caching them (a page's bootstrap) takes for "no flags".
    path = tmp_path / "flags.yaml"
    path.write_text("gates: [oops]\n")
    with Flagport(provider="local", path=str(path), watch=False) as fp:
        everything = fp.evaluate_all(USER)
        assert everything.is_error
        assert everything.error_code is ErrorCode.PROVIDER_NOT_READY
        assert "PROVIDER_NOT_READY, status ERROR" in (everything.error_message or "")
        fp.override_gate("new_checkout", True)
        everything = fp.evaluate_all(USER)
        assert everything.gates["new_checkout"].value is True
        assert everything.to_dict()["error_code"] == "PROVIDER_NOT_READY"
    with Flagport(provider="local", flags=INLINE_FLAGS) as fp:
        assert fp.evaluate_all(USER).error_code is None


@pytest.mark.parametrize("user", [None, {"custom": [{None: "x"}]}, 42, "42"])
def test_evaluate_all_serves_an_empty_result_for_an_invalid_user(user: Any) -> None:
    with Flagport(provider="local", flags=INLINE_FLAGS) as fp:
        everything = fp.evaluate_all(user)
        assert (everything.gates, everything.experiments, everything.configs) == ({}, {}, {})
        assert everything.error_code is ErrorCode.INVALID_CONTEXT
        assert everything.to_dict()["error_code"] == "INVALID_CONTEXT"
        assert set(fp.evaluate_all(USER).gates) == {"new_checkout"}
    with Flagport(provider="local", flags=INLINE_FLAGS, strict=True) as fp:
        if user is None:  # an absent user is not a mistake: strict serves defaults too
            assert fp.evaluate_all(user).error_code is ErrorCode.INVALID_CONTEXT
        else:
            with pytest.raises(flagport.InvalidContextError):
                fp.evaluate_all(user)


@pytest.mark.parametrize("name", [["new_checkout"], {"a": 1}, None, 7, ("t",)])
@pytest.mark.parametrize("provider", ["local", "passall"])
def test_a_name_that_is_not_a_str_serves_the_default(name: Any, provider: str) -> None:
    options = {"flags": INLINE_FLAGS} if provider == "local" else {}
    with Flagport(provider=provider, **options) as fp:
        for _ in range(2):  # started or not
            assert fp.check_gate(USER, name, default=True) is True
            gate = fp.get_gate(USER, name)
            assert (gate.value, gate.error_code) == (False, ErrorCode.FLAG_NOT_FOUND)
            assert isinstance(gate.name, str)
            exp = fp.get_experiment(USER, name, default={"color": "gray"})
            assert (exp.value, exp.error_code) == ({"color": "gray"}, ErrorCode.FLAG_NOT_FOUND)
            assert fp.get_config(USER, name).error_code is ErrorCode.FLAG_NOT_FOUND
            fp.log_event(USER, name)
            fp.log_exposure(USER, name)
    with Flagport(provider=provider, strict=True, **options) as fp:
        with pytest.raises(flagport.FlagNotFoundError, match="flag names are str"):
            fp.get_gate(USER, name)
        with pytest.raises(flagport.FlagNotFoundError, match="flag names are str"):
            fp.check_gate(USER, name)
        with pytest.raises(GeneralError, match="event names are str"):
            fp.log_event(USER, name)


def test_a_huge_name_is_shortened_in_logs_and_errors(caplog: pytest.LogCaptureFixture) -> None:
    name = "x" * 1_000_000
    with (
        Flagport(provider="local", flags=INLINE_FLAGS) as fp,
        caplog.at_level(logging.WARNING, logger="flagport"),
    ):
        gate = fp.get_gate(USER, name)
    assert gate.error_code is ErrorCode.FLAG_NOT_FOUND
    assert len(gate.error_message or "") <= 1_000
    assert max(len(r.getMessage()) for r in caplog.records) < 2_000


@pytest.mark.parametrize("default", [self_referencing(), deep(3_000), 5, ["a"], "text"])
@pytest.mark.parametrize("provider", ["local", "passall"])
def test_a_default_that_cannot_be_served_is_a_type_mismatch(default: Any, provider: str) -> None:
    # passall serves the default; local serves it for an unknown flag
    options = {"flags": INLINE_FLAGS} if provider == "local" else {}
    with Flagport(provider=provider, **options) as fp:
        exp = fp.get_experiment(USER, "button_color", default=default)
        cfg = fp.get_config(USER, "nope" if provider == "local" else "pricing", default=default)
        for result in (exp, cfg):
            assert result.value == {}
            assert result.reason is Reason.ERROR
            assert result.error_code in (ErrorCode.TYPE_MISMATCH, ErrorCode.FLAG_NOT_FOUND)
        # a default that is never needed does no harm
        if provider == "local":
            assert fp.get_config(USER, "pricing", default=default).value == {"discount": 0.1}
    with Flagport(provider="passall", strict=True) as fp, pytest.raises(flagport.TypeMismatchError):
        fp.get_config(USER, "pricing", default=default)


def test_a_gate_default_is_served_as_a_bool() -> None:
    fp = exploding()
    assert fp.check_gate(USER, "g", default=1) is True  # type: ignore[arg-type]
    assert fp.get_gate(USER, "g", default=[]).value is False  # type: ignore[arg-type]


def test_concurrent_overrides_are_all_kept() -> None:
    fp = Flagport(provider="passall")
    threads, per_thread = 8, 500
    barrier = threading.Barrier(threads)

    def force(thread: int) -> None:
        barrier.wait()
        for i in range(per_thread):
            fp.override_gate("same", True, user_id=f"{thread}-{i}")

    interval = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)  # switch threads as often as possible
    try:
        workers = [threading.Thread(target=force, args=(t,)) for t in range(threads)]
        for worker in workers:
            worker.start()
        for worker in workers:
            worker.join()
    finally:
        sys.setswitchinterval(interval)
    assert len(fp.overrides.gates.table["same"]) == threads * per_thread


def test_an_override_of_a_name_that_is_not_a_str_says_which_kind() -> None:
    with Flagport(provider="passall", strict=True) as fp:
        with pytest.raises(ConfigurationError, match=r"^override of an experiment: flag names"):
            fp.override_experiment(5, "blue")  # type: ignore[arg-type]
        with pytest.raises(ConfigurationError, match=r"^override of a gate: flag names"):
            fp.override_gate(5, True)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("call", "args", "kwargs"),
    [
        ("override_gate", (["g"], True), {}),
        ("override_gate", ("g", True), {"user_id": 1.5}),
        # bool("false") is True: a gate forced with a word was forced on.
        ("override_gate", ("g", "false"), {}),
        ("override_gate", ("g", None), {}),
        ("override_gate", ("g", 2), {}),
        ("override_experiment", ("e", ["blue"]), {}),
        ("override_experiment", ("e", "blue", self_referencing()), {}),
        ("override_config", ("c", {1, 2}), {}),  # not a JSON value
        ("override_experiment", ("e", "blue", object()), {}),
        ("override_config", ("c", deep(200)), {}),
    ],
)
def test_an_override_that_cannot_be_stored_is_refused(
    call: str, args: tuple[Any, ...], kwargs: dict[str, Any]
) -> None:
    with Flagport(provider="passall") as fp:
        getattr(fp, call)(*args, **kwargs)  # logged, not raised
        assert fp.names() == flagport.FlagNames()
    with Flagport(provider="passall", strict=True) as fp, pytest.raises(ConfigurationError):
        getattr(fp, call)(*args, **kwargs)


def test_overrides_take_any_json_value() -> None:
    # Rules v2 configs and groups serve scalars and lists; a falsy value is a value.
    with Flagport(provider="passall", strict=True) as fp:
        fp.override_config("limit", 5)
        fp.override_config("off", False)
        fp.override_config("tags", ["a", "b"])
        fp.override_experiment("copy", "short", "")
        fp.override_experiment("slots", "none", 0)
        user = {"user_id": "1"}
        assert [fp.get_config(user, n).value for n in ("limit", "off", "tags")] == [
            5,
            False,
            ("a", "b"),
        ]
        assert fp.get_experiment(user, "copy").value == ""
        assert fp.get_experiment(user, "slots").value == 0


def test_an_override_for_an_int_user_id_matches_that_user() -> None:
    with Flagport(provider="passall") as fp:
        fp.override_gate("g", False, user_id=7)  # type: ignore[arg-type]
        assert fp.check_gate({"user_id": 7}, "g") is False


class BrokenNames(Exploding):
    name = "broken_names"

    def names(self) -> flagport.FlagNames:
        raise RuntimeError("vendor exploded")


class BrokenStart(Exploding):
    name = "broken_start"

    def start(self) -> None:
        raise OSError("vendor unreachable")


def test_strict_raises_only_flagport_errors() -> None:
    fp = Flagport(BrokenStart(BrokenStart.Options()), strict=True)
    with pytest.raises(flagport.ProviderNotReadyError, match="vendor unreachable"):
        fp.check_gate(USER, "g")
    fp = Flagport(BrokenNames(BrokenNames.Options()), strict=True)
    with pytest.raises(GeneralError, match="vendor exploded"):
        fp.names()
    with pytest.raises(GeneralError, match="vendor exploded"):
        fp.evaluate_all(USER)
    lenient = Flagport(BrokenNames(BrokenNames.Options()))
    assert lenient.evaluate_all(USER).to_dict() == {"gates": {}, "experiments": {}, "configs": {}}


def test_scope_for_an_invalid_user_serves_defaults() -> None:
    with Flagport(provider="passall") as fp:
        previous = flagport.set_client(fp)
        try:
            with fp.scope(USER), fp.scope(["not", "a", "user"]):  # type: ignore[arg-type]
                # the inner scope has no user: not the outer one's
                assert flagport.current_user() is None
                gate = flagport.get_gate("g")
                assert gate.error_code is ErrorCode.INVALID_CONTEXT
            with flagport.scope(None):
                assert flagport.get_config("c").error_code is ErrorCode.INVALID_CONTEXT
        finally:
            flagport.set_client(previous)
    with (
        Flagport(provider="passall", strict=True) as fp,
        pytest.raises(flagport.InvalidContextError),
        fp.scope(["not", "a", "user"]),  # type: ignore[arg-type]
    ):
        pass


def test_module_level_call_without_a_name_serves_the_default(scoped_client: Any) -> None:
    assert flagport.check_gate(USER) is False  # type: ignore[call-arg]
    assert flagport.get_gate(USER).error_code is ErrorCode.FLAG_NOT_FOUND  # type: ignore[call-arg]


def test_a_custom_that_is_not_a_mapping_beside_other_keys_is_invalid_context() -> None:
    # as_user merged the other keys into dict(custom): TypeError, served as GENERAL
    with Flagport(provider="passall") as fp:
        result = fp.get_gate({"custom": -1, "plan": "pro"}, "g")
        assert result.error_code is ErrorCode.INVALID_CONTEXT
        assert "-1" not in (result.error_message or "")


def test_shutdown_delivers_queued_events_to_the_provider() -> None:
    # The provider sink asks the client for its provider while shutdown drains the queue.
    fp = Flagport(provider="passall", events={"sinks": ["provider"], "flush_interval": 60})
    provider = fp.provider
    assert isinstance(provider, PassAllProvider)
    fp.log_event(USER, "purchase", 9.99)
    fp.shutdown(timeout=10)
    assert [e.name for e in provider.events] == ["purchase"]
    assert fp.stats()["events"]["provider"]["failed"] == 0
