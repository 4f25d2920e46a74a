"""OpenFeature -> flagport: the ``openfeature`` provider over OpenFeature's InMemoryProvider."""

from __future__ import annotations

import itertools
import multiprocessing
import os
import threading
from collections.abc import Iterator
from typing import Any

import pytest
from openfeature import api
from openfeature.evaluation_context import EvaluationContext
from openfeature.event import ProviderEventDetails
from openfeature.exception import ParseError as OFParseError
from openfeature.exception import TargetingKeyMissingError
from openfeature.flag_evaluation import FlagEvaluationDetails, FlagResolutionDetails, Reason
from openfeature.hook import Hook, HookContext, HookHints
from openfeature.provider.in_memory_provider import InMemoryFlag, InMemoryProvider
from openfeature.provider.no_op_provider import NoOpProvider

from flagport import (
    ConfigurationError,
    ErrorCode,
    FlagNotFoundError,
    Flagport,
    GeneralError,
    ProviderStatus,
    User,
)
from flagport import Reason as FPReason
from flagport.plugins import provider_registry
from flagport.testing.conformance import ProviderConformance
from flagport_openfeature import OpenFeatureProvider
from flagport_openfeature.testing import SCENARIO_KINDS, scenario_flags

IN_MEMORY = "openfeature.provider.in_memory_provider:InMemoryProvider"
SCENARIO = "flagport_openfeature.testing:scenario_provider"
KINDS = SCENARIO_KINDS
_domains = itertools.count()


def _echo(flag: InMemoryFlag[Any], ctx: EvaluationContext) -> FlagResolutionDetails[Any]:
    return FlagResolutionDetails(dict(ctx.attributes), reason=Reason.STATIC, variant="echo")


def in_memory_flags() -> dict[str, InMemoryFlag[Any]]:
    """The conformance suite's known flags (the common scenario), plus a few more."""
    return {
        **scenario_flags(),
        "headline": InMemoryFlag("a", {"a": "Hello"}),
        "echo": InMemoryFlag("echo", {"echo": {}}, context_evaluator=_echo),
    }


def direct(**options: Any) -> OpenFeatureProvider:
    options.setdefault("of_provider", InMemoryProvider(in_memory_flags()))
    return OpenFeatureProvider.from_options(**KINDS, **options)  # type: ignore[return-value]


class TestDirectConformance(ProviderConformance):
    """flagport drives the OpenFeature provider itself."""

    def make_provider(self) -> OpenFeatureProvider:
        return direct()


class TestThroughTheOpenFeatureApiConformance(ProviderConformance):
    """flagport registers a provider built from an import path under a domain."""

    def make_provider(self) -> OpenFeatureProvider:
        return OpenFeatureProvider.from_options(  # type: ignore[return-value]
            of_provider=SCENARIO,
            domain=f"conformance-{next(_domains)}",
            **KINDS,
        )


@pytest.fixture
def fp() -> Iterator[Flagport]:
    with Flagport(direct(), strict=False) as client:
        yield client


US_PRO = User(user_id="7", country="US", custom={"plan": "pro"})


# -- results ----------------------------------------------------------------------------------
def test_gate_is_the_boolean_flag_with_variant_as_rule(fp: Flagport) -> None:
    on = fp.get_gate(US_PRO, "new_checkout")
    rollout = fp.get_gate(User(user_id="7", country="DE"), "new_checkout")  # bucket 44
    off = fp.get_gate(User(user_id="1", country="DE"), "new_checkout")  # bucket 71
    assert (on.value, on.rule_id, on.reason) == (True, "on", FPReason.TARGETING_MATCH)
    assert (rollout.value, rollout.rule_id, rollout.reason) == (True, "on", FPReason.SPLIT)
    assert (off.value, off.rule_id, off.reason) == (False, "off", FPReason.DEFAULT)
    assert on.provider == "openfeature"


def test_experiment_group_is_the_variant(fp: Flagport) -> None:
    groups = {}
    for i in range(12):
        result = fp.get_experiment(User(user_id=f"u{i}"), "button_color")
        assert result.in_experiment
        assert result.reason is FPReason.SPLIT
        assert result.get("color") == {"control": "gray"}.get(result.group or "", result.group)
        groups[result.group] = result.value
    assert set(groups) == {"control", "blue", "green"}


def test_config_is_the_object_flag(fp: Flagport) -> None:
    assert fp.get_config(US_PRO, "pricing").get("discount", 0.0) == 0.1
    base = fp.get_config(User(user_id="1"), "pricing")
    assert (base.value, base.reason, base.rule_id) == ({"discount": 0}, FPReason.DEFAULT, "base")


def test_a_scalar_flag_as_config_is_wrapped_in_value(fp: Flagport) -> None:
    assert fp.get_config(US_PRO, "headline").value == {"value": "Hello"}


def test_gate_of_a_non_boolean_flag_is_a_type_mismatch(fp: Flagport) -> None:
    result = fp.get_gate(US_PRO, "headline", default=True)
    assert (result.value, result.error_code) == (True, ErrorCode.TYPE_MISMATCH)


def test_unknown_flag_raises_flag_not_found_in_the_provider() -> None:
    provider = direct()
    provider.start()
    with pytest.raises(FlagNotFoundError, match="nope"):
        provider.evaluate_gate(US_PRO, "nope")
    with pytest.raises(FlagNotFoundError):
        provider.evaluate_config(US_PRO, "nope")
    provider.shutdown()


def test_user_becomes_the_evaluation_context(fp: Flagport) -> None:
    user = User(
        user_id="7",
        email="a@b.c",
        custom={"plan": "pro"},
        private={"ssn": "x"},
        custom_ids={"company_id": "c1"},
    )
    seen = fp.get_config(user, "echo").value
    assert seen == {"email": "a@b.c", "plan": "pro", "ssn": "x", "custom_ids": {"company_id": "c1"}}
    with Flagport(direct(include_private=False)) as private_kept:
        assert "ssn" not in private_kept.get_config(user, "echo").value


@pytest.mark.parametrize(
    ("reason", "expected"),
    [
        (Reason.CACHED, FPReason.STATIC),
        (Reason.UNKNOWN, FPReason.DEFAULT),
        (Reason.DISABLED, FPReason.DISABLED),
        ("OVERRIDE", FPReason.OVERRIDE),
        ("SOMETHING_ELSE", FPReason.DEFAULT),
        (None, FPReason.DEFAULT),
    ],
)
def test_reasons_map_to_flagport(reason: Any, expected: FPReason) -> None:
    def fixed(flag: InMemoryFlag[Any], ctx: EvaluationContext) -> FlagResolutionDetails[Any]:
        return FlagResolutionDetails(True, reason=reason, variant="v")

    flags = {"g": InMemoryFlag("v", {"v": True}, context_evaluator=fixed)}
    with Flagport(direct(of_provider=InMemoryProvider(flags))) as client:
        assert client.get_gate(US_PRO, "g").reason is expected


@pytest.mark.parametrize(
    ("error", "code"),
    [
        (OFParseError("bad json"), ErrorCode.PARSE_ERROR),
        (TargetingKeyMissingError("no key"), ErrorCode.INVALID_CONTEXT),
        (RuntimeError("boom"), ErrorCode.GENERAL),
    ],
)
def test_provider_exceptions_become_flagport_error_codes(error: Exception, code: ErrorCode) -> None:
    def failing(flag: InMemoryFlag[Any], ctx: EvaluationContext) -> FlagResolutionDetails[Any]:
        raise error

    flags = {"g": InMemoryFlag("v", {"v": True}, context_evaluator=failing)}
    with Flagport(direct(of_provider=InMemoryProvider(flags))) as client:
        result = client.get_gate(US_PRO, "g", default=True)
        assert (result.value, result.reason, result.error_code) == (True, FPReason.ERROR, code)


# -- events --------------------------------------------------------------------------------------
def test_custom_events_are_tracked_without_private_attributes_and_exposures_are_not() -> None:
    of = InMemoryProvider(in_memory_flags())
    with Flagport(direct(of_provider=of)) as client:
        user = User(user_id="7", country="US", private={"ssn": "x"})
        client.get_experiment(user, "button_color")  # an exposure: not an OpenFeature event
        client.log_event(user, "purchase", 9.99, {"sku": "A1"})
        client.log_event(user, "search", "shoes")
        client.flush()
        events = of._tracking_events
    assert set(events) == {"purchase", "search"}
    assert (events["purchase"].value, events["purchase"].details) == (9.99, {"sku": "A1"})
    assert (events["search"].value, events["search"].details) == (None, {"value": "shoes"})
    assert events["purchase"].eval_context_attributes == {"country": "US"}


# -- options and lifecycle -----------------------------------------------------------------------
def test_registered_through_the_flagport_entry_point() -> None:
    info = provider_registry()["openfeature"]
    assert info.provider_class is OpenFeatureProvider
    assert info.distribution == "flagport-openfeature"


def test_built_by_name_with_an_import_path_and_factory_options() -> None:
    with Flagport(
        provider="openfeature",
        of_provider=IN_MEMORY,
        of_provider_options={"flags": in_memory_flags()},
    ) as client:
        assert client.check_gate(US_PRO, "new_checkout") is True
        assert client.provider.stats()["of_provider"] == "In-Memory Provider"


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({}, "needs of_provider="),
        ({"of_provider": "no_such_package.mod:Factory"}, "is not installed"),
        ({"of_provider": "no-colon"}, "not an import path"),
        ({"of_provider": 42}, "must be an import path"),
        ({"of_provider": IN_MEMORY, "typo": 1}, "typo"),
    ],
)
def test_bad_options_are_configuration_errors(options: dict[str, Any], message: str) -> None:
    with pytest.raises(ConfigurationError, match=message):
        Flagport(provider="openfeature", **options)


@pytest.mark.parametrize(
    ("path", "message"),
    [
        ("builtins:dict", "gave dict, which is not an OpenFeature provider"),
        ("json:dumps", "calling the factory with of_provider_options={} failed: TypeError"),
        ("json:no_such_name", "does not import: AttributeError"),
    ],
)
def test_a_factory_that_gives_no_provider_fails_at_start(path: str, message: str) -> None:
    client = Flagport(provider="openfeature", of_provider=path, strict=True)
    with pytest.raises(ConfigurationError, match=message):
        client.check_gate(US_PRO, "new_checkout")
    lenient = Flagport(provider="openfeature", of_provider=path)
    assert lenient.get_gate(US_PRO, "x").error_code is ErrorCode.PROVIDER_NOT_READY


class Blocking(InMemoryProvider):
    """An in-memory provider whose initialize waits for a signal, or fails."""

    def __init__(self, fail: bool = False) -> None:
        super().__init__(in_memory_flags())
        self.release = threading.Event()
        self.fail = fail
        self.shutdowns = 0

    def initialize(self, evaluation_context: EvaluationContext) -> None:
        self.release.wait(10)
        if self.fail:
            raise OFParseError("bad configuration")

    def shutdown(self) -> None:
        self.shutdowns += 1


def test_a_slow_initialize_is_bounded_then_becomes_ready() -> None:
    slow = Blocking()
    with Flagport(direct(of_provider=slow, init_timeout=0.05)) as client:
        early = client.get_gate(US_PRO, "new_checkout")
        assert early.error_code is ErrorCode.PROVIDER_NOT_READY
        slow.release.set()
        assert client.provider._init_done.wait(5)  # type: ignore[attr-defined]
        assert client.check_gate(US_PRO, "new_checkout") is True
        assert client.provider.status is ProviderStatus.READY
    assert slow.shutdowns == 1


def test_a_failed_initialize_is_reported_at_start() -> None:
    failing = Blocking(fail=True)
    failing.release.set()
    provider = direct(of_provider=failing)
    strict = Flagport(provider, strict=True)
    with pytest.raises(GeneralError, match="failed to initialize: ParseError: bad configuration"):
        strict.check_gate(US_PRO, "new_checkout")
    assert provider.status is ProviderStatus.ERROR
    # As OpenFeature does for a provider in ERROR, evaluations are still attempted.
    assert provider.evaluate_gate(US_PRO, "new_checkout").value is True


def test_provider_events_set_the_flagport_status() -> None:
    of = InMemoryProvider(in_memory_flags())
    provider = direct(of_provider=of)
    with Flagport(provider) as client:
        assert client.check_gate(US_PRO, "new_checkout") is True
        assert provider.status is ProviderStatus.READY
        of.emit_provider_stale(ProviderEventDetails(message="connection lost"))
        assert provider.status is ProviderStatus.STALE
        of.emit_provider_error(ProviderEventDetails(message="still lost"))
        assert provider.status is ProviderStatus.ERROR
        of.emit_provider_configuration_changed(ProviderEventDetails(flags_changed=["x"]))
        assert provider.status is ProviderStatus.READY
    of.emit_provider_stale(ProviderEventDetails())  # detached: no longer ours
    assert provider.status is ProviderStatus.SHUT_DOWN


# -- through the OpenFeature API ------------------------------------------------------------
class Seen(Hook):
    def __init__(self) -> None:
        self.flags: list[str] = []

    def after(
        self, hook_context: HookContext, details: FlagEvaluationDetails[Any], hints: HookHints
    ) -> None:
        self.flags.append(hook_context.flag_key)


def test_domain_mode_runs_api_hooks_and_context() -> None:
    hook = Seen()
    api.add_hooks([hook])
    api.set_evaluation_context(EvaluationContext(attributes={"country": "US"}))
    with Flagport(direct(domain="app")) as client:
        assert client.check_gate(User(user_id="1"), "new_checkout") is True
        assert hook.flags == ["new_checkout"]


def test_domain_mode_uses_the_applications_provider_and_leaves_it_running() -> None:
    app_provider = Blocking()
    app_provider.release.set()
    api.set_provider_and_wait(app_provider, "app")
    with Flagport(provider="openfeature", domain="app", **KINDS) as client:
        assert client.check_gate(US_PRO, "new_checkout") is True
        assert client.get_experiment(US_PRO, "button_color").group is not None
    assert app_provider.shutdowns == 0
    assert api.get_client("app").provider is app_provider


def test_domain_mode_unbinds_an_owned_provider_at_shutdown() -> None:
    owned = Blocking()
    owned.release.set()
    client = Flagport(direct(of_provider=owned, domain="owned"))
    assert client.check_gate(US_PRO, "new_checkout") is True
    assert api.get_client("owned").provider is owned
    client.shutdown()
    assert isinstance(api.get_client("owned").provider, NoOpProvider)


def test_describe_shows_an_instance_option_without_failing() -> None:
    described = direct().describe()
    assert described["options"]["of_provider"].startswith("<openfeature.provider")
    assert described["options"]["gates"] == ("new_checkout",)


# -- fork --------------------------------------------------------------------------------------
def _child(fp: Flagport, results: Any) -> None:
    user = User(user_id="7", country="US")
    value = fp.check_gate(user, "new_checkout")
    built_here = fp.provider._of.pid == os.getpid()  # type: ignore[attr-defined]
    fp.shutdown(timeout=5)
    results.put((value, built_here))


def test_a_forked_child_builds_its_own_provider_from_the_factory() -> None:
    fp = Flagport(provider="openfeature", of_provider=SCENARIO, **KINDS)
    assert fp.check_gate(US_PRO, "new_checkout") is True
    ctx = multiprocessing.get_context("fork")
    results = ctx.Queue()
    procs = [ctx.Process(target=_child, args=(fp, results)) for _ in range(2)]
    for proc in procs:
        proc.start()
    answers = [results.get(timeout=30) for _ in procs]
    for proc in procs:
        proc.join(timeout=20)
        assert proc.exitcode == 0
    assert answers == [(True, True), (True, True)]
    assert fp.provider._of.pid == os.getpid()  # type: ignore[attr-defined]
    fp.shutdown()
